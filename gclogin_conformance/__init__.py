"""gclogin-conformance: judge Genesys Cloud logins against R1–R29 and G1–G8.

    gclogin-conformance                         # self-check: gclogin, the mock, the web service
    gclogin-conformance server URL --credentials creds.toml

Reports go to ./reports (conformance.md, conformance.html, conformance.xml); the exit
status is non-zero when any check fails.
"""
from __future__ import annotations

from gclogin_conformance.runner import run
from gclogin_conformance.targets import RunSpec, ServerSpec, TargetError

__all__ = ["RunSpec", "ServerSpec", "TargetError", "run"]
