"""Tests of the graph tasks (NoReC_fine sentiment graphs, NoReC_neg negation)."""
