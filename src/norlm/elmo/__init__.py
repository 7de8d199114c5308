"""elmo stage."""
