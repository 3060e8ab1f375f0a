"""Requirement-by-requirement conformance suite (REFERENCE §7 R1–R29, Genesys G1–G7).

Run `python -m tests.conformance` for the JUnit + Markdown reports; plain pytest runs
it against the in-process target as part of `make test`.
"""
