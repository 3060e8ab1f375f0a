# Benchmarks: `make bench` (reports/bench.{md,json,png}), and the npm peer server that
# both `make bench` and the smoke test in `make test` measure against.
SYSTEM_PACKAGES += wrk nodejs chromium
BENCH_PEER := bench/peer
BENCH_PEER_STAMP := $(BENCH_PEER)/node_modules/.package-lock.json
BENCH_ARGS ?=

.PHONY: bench bench-peer bench-deps

# npm comes with NodeSource's nodejs but is a separate Debian package; install it only
# when missing, since NodeSource's nodejs conflicts with Debian's npm.
$(BENCH_PEER_STAMP): $(BENCH_PEER)/package-lock.json $(BENCH_PEER)/package.json
	@command -v npm >/dev/null || scripts/ensure-system-packages npm
	npm ci --prefix $(BENCH_PEER) --no-audit --no-fund --loglevel=error
	@touch $@

bench-peer: system-packages $(BENCH_PEER_STAMP)

# The `bench` extra (matplotlib, for reports/bench.png) is not a runtime dependency, so
# only bench installs it; a second run skips pip.
bench-deps: install system-packages bench-peer
	@$(PY) -c 'import matplotlib' 2>/dev/null || $(PY) -m pip install -q -e '.[bench]'

# About three minutes; writes reports/bench.md, reports/bench.json and reports/bench.png.
bench: bench-deps
	$(PY) -m bench $(BENCH_ARGS)

# The smoke test (tests/bench) runs the peer too.
test-python: bench-peer
