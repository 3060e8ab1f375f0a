"""gclogin_conformance.checks.test_server_mock, collected here so `make test` runs it (self-check)."""
from gclogin_conformance.checks.test_server_mock import *  # noqa: F403
