# Conformance suite: `make conformance` runs `gclogin-conformance` (the package
# gclogin_conformance/, installed with the `conformance` extra) in self-check mode:
# R1–R29 and G1–G8 against this project's client, mock IdP and web service; reports in
# reports/conformance.{md,html,xml}. CONFORMANCE_ARGS passes a mode, e.g.
#   make conformance CONFORMANCE_ARGS="server http://127.0.0.1:8081 --mock"
#   make conformance CONFORMANCE_ARGS="client gc --var gc=/usr/local/bin/gc"
# The client checks drive Debian's chromium through Playwright (bundled browsers unavailable).
SYSTEM_PACKAGES += chromium
CONFORMANCE_ARGS ?=
.PHONY: conformance
conformance: install system-packages
	$(PY) -m gclogin_conformance $(CONFORMANCE_ARGS)
