"""mlextract.server."""
