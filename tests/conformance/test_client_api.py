"""gclogin_conformance.checks.test_client_api, collected here so `make test` runs it (self-check)."""
from gclogin_conformance.checks.test_client_api import *  # noqa: F403
