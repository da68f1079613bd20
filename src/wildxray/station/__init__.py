"""wildxray.station."""
