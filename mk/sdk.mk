# Genesys's own SDKs as test dependencies (issue 15): the Python SDK comes with the
# `test` extra; the JavaScript SDK (Node tests, the browser SPA and the model declarations
# tests/sdk/models.py checks bodies against) is installed here from the committed lockfile.
SYSTEM_PACKAGES += nodejs chromium
SDK_NODE := tests/sdk/node
SDK_NODE_STAMP := $(SDK_NODE)/node_modules/.package-lock.json

.PHONY: sdk-node

$(SDK_NODE_STAMP): $(SDK_NODE)/package-lock.json $(SDK_NODE)/package.json
	@command -v npm >/dev/null || scripts/ensure-system-packages npm
	npm ci --prefix $(SDK_NODE) --no-audit --no-fund --loglevel=error
	@touch $@

sdk-node: system-packages $(SDK_NODE_STAMP)

test-python: sdk-node

# The inner loop reads the model declarations too (npm only, no apt).
test-fast: $(SDK_NODE_STAMP)

# axe-core for the accessibility checks of tests/browser (issue 19), from its lockfile too.
AXE_NODE := tests/browser/node
AXE_NODE_STAMP := $(AXE_NODE)/node_modules/.package-lock.json

$(AXE_NODE_STAMP): $(AXE_NODE)/package-lock.json $(AXE_NODE)/package.json
	@command -v npm >/dev/null || scripts/ensure-system-packages npm
	npm ci --prefix $(AXE_NODE) --no-audit --no-fund --loglevel=error
	@touch $@

sdk-node: $(AXE_NODE_STAMP)
