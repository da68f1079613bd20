"""wildxray.export."""
