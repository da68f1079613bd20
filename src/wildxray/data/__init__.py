"""wildxray.data."""
