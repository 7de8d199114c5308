"""hpc stage."""
