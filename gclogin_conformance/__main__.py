"""`python -m gclogin_conformance ...` is `gclogin-conformance ...`."""
import sys

from gclogin_conformance.cli import main

sys.exit(main())
