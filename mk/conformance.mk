# Conformance suite: `make conformance` checks R1–R29 and G1–G8 and writes
# reports/conformance.xml (JUnit) and reports/conformance.md. Target: the in-process mock
# by default; CONFORMANCE_IDP_URL/CONFORMANCE_WEB_URL for a running stack;
# GENESYSCLOUD_REGION + GENESYSCLOUD_OAUTHCLIENT_ID/SECRET for a real org.
# tests/browser drives Debian's chromium through Playwright (bundled browsers unavailable).
SYSTEM_PACKAGES += chromium
.PHONY: conformance
conformance: install
	$(PY) -m tests.conformance
