"""Command line door: `study-overlay ...`."""
