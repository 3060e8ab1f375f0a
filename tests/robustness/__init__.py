"""Robustness tests: faults, load and hostile input (issue 7)."""
