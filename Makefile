# Two commands do all set-up: `make demo` and `make test`. Everything else is a
# building block. Feature fragments live in mk/*.mk; each may add to
# SYSTEM_PACKAGES and define its own targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SYSTEM_PACKAGES :=
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install system-packages test test-python clean

include $(sort $(wildcard mk/*.mk))

help:
	@echo "make demo   - install if needed, run the mock IdP and the web service on 127.0.0.1"
	@echo "make test   - install if needed (Python and Debian packages), run every test"
	@echo "make test-fast - lint, then the tests not marked slow (no apt, containers or browser)"
	@echo "other targets: install lint conformance bench fuzz fuzz-merge soak test-containers clean"

# Re-installs only when pyproject.toml changes; a second run is a no-op.
$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

install: $(INSTALLED)

system-packages:
	@scripts/ensure-system-packages $(sort $(SYSTEM_PACKAGES))

test-python: install system-packages lint
	$(PY) -m pytest --ignore=tests/containers $(PYTEST_ARGS)

test: test-python test-floors test-containers

clean:
	rm -rf $(VENV) reports build *.egg-info .hypothesis
