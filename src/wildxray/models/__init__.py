"""wildxray.models."""
