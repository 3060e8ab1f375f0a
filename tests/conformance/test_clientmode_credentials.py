"""gclogin_conformance.checks.test_clientmode_credentials, collected here so `make test` runs it against the
shipped gclogin profile (self-check): gclogin passes every client check."""
from gclogin_conformance.checks.test_clientmode_credentials import *  # noqa: F403
