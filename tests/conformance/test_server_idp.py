"""gclogin_conformance.checks.test_server_idp, collected here so `make test` runs it (self-check)."""
from gclogin_conformance.checks.test_server_idp import *  # noqa: F403
