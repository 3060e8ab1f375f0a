"""gclogin_conformance.checks.test_web_service, collected here so `make test` runs it (self-check)."""
from gclogin_conformance.checks.test_web_service import *  # noqa: F403
