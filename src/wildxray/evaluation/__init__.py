"""wildxray.evaluation."""
