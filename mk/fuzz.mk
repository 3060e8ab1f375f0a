# Fuzzing and soak runs (atheris harnesses in fuzz/, the load soak in tests/robustness).
# make fuzz  - each atheris harness for FUZZ_SECONDS (seeds: fuzz/corpus/<target>;
#              new inputs and any crash go to reports/fuzz/, never into the repo)
# make fuzz-merge - copy the new inputs (each one added coverage when found) into
#              fuzz/corpus/<target>; libFuzzer's own -merge=1 does not work under atheris
# make soak  - the full mock-IdP load run (SOAK_SECONDS of mixed traffic, 2 workers)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := redirect config idp
SOAK_SECONDS ?= 60
.PHONY: fuzz fuzz-merge soak

fuzz: install
	@failed=""; for t in $(FUZZ_TARGETS); do \
	    mkdir -p reports/fuzz/$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    mkdir -p reports/fuzz/tmp; \
	    TMPDIR=$(CURDIR)/reports/fuzz/tmp $(PY) fuzz/fuzz_$$t.py -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=reports/fuzz/$$t- \
	        reports/fuzz/$$t fuzz/corpus/$$t > reports/fuzz/$$t.log 2>&1 \
	        || failed="$$failed $$t"; \
	    grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|Uncaught|Error:" \
	        reports/fuzz/$$t.log | head -n 8; \
	    rm -rf reports/fuzz/tmp; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (inputs in reports/fuzz/, logs reports/fuzz/*.log)"; exit 1; fi

fuzz-merge:
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p reports/fuzz/$$t; \
	    cp -n reports/fuzz/$$t/* fuzz/corpus/$$t/ 2>/dev/null || true; \
	    echo "fuzz/corpus/$$t: $$(ls fuzz/corpus/$$t | wc -l) inputs"; \
	done

soak: install
	$(PY) -m tests.robustness.soak --seconds $(SOAK_SECONDS) --workers 2
