"""bert stage."""
