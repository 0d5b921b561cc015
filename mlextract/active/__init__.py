"""mlextract.active."""
