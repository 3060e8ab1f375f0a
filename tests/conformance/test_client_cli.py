"""gclogin_conformance.checks.test_client_cli, collected here so `make test` runs it (self-check)."""
from gclogin_conformance.checks.test_client_cli import *  # noqa: F403
