"""gclogin_conformance.checks.test_client_oauth, collected here so `make test` runs it (self-check)."""
from gclogin_conformance.checks.test_client_oauth import *  # noqa: F403
