"""The conformance suite (gclogin_conformance) run in-process as part of `make test`.

Each test_*.py here re-exports one check module of the package, so plain pytest runs
the self-check (this project's client, mock IdP and web service); test_harness.py checks
the suite's own machinery and the defective client and server show every check can fail.
"""
