"""wildxray.xray."""
