"""gclogin_conformance.checks.test_client_loopback, collected here so `make test` runs it (self-check)."""
from gclogin_conformance.checks.test_client_loopback import *  # noqa: F403
