"""mlextract.theory."""
