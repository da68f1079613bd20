"""wildxray.training."""
