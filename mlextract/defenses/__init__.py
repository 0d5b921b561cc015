"""mlextract.defenses."""
