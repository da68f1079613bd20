"""wildxray.viewer."""
