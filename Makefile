# Two commands do all set-up: `make demo` and `make test`. Everything else is a
# building block. Feature fragments live in mk/*.mk; each may add to
# SYSTEM_PACKAGES and define its own targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
RUNTIME_INSTALLED := $(VENV)/.installed-runtime
SYSTEM_PACKAGES :=
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install install-runtime system-packages test test-python clean

include $(sort $(wildcard mk/*.mk))

help:
	@echo "make demo   - install if needed, run the mock IdP and the web service on 127.0.0.1"
	@echo "make test   - install if needed (Python and Debian packages), run every test"
	@echo "make test-fast - lint, then the tests not marked slow (no apt, containers or browser)"
	@echo "make compose-up / compose-down - the same two services in containers (docker, else podman)"
	@echo "other targets: install install-runtime lint conformance bench fuzz fuzz-merge soak test-containers clean"

# Two stamps, each re-installing only when pyproject.toml changes (a second run is a
# no-op): the runtime dependencies alone (`make demo`), and those plus the `test` extra
# (pytest, Playwright, hypothesis, podman-compose, ...: `make test`, lint, bench). The
# test install also satisfies the runtime one, so a venv `make test` made is not reinstalled.
$(RUNTIME_INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if [ $(INSTALLED) -nt pyproject.toml ]; then touch $@; exit 0; fi; \
	    $(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e . && touch $@

$(INSTALLED): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@ $(RUNTIME_INSTALLED)

install-runtime: $(RUNTIME_INSTALLED)

install: $(INSTALLED)

system-packages:
	@scripts/ensure-system-packages $(sort $(SYSTEM_PACKAGES))

test-python: install system-packages lint
	$(PY) -m pytest --ignore=tests/containers --ignore=tests/floors $(PYTEST_ARGS)  # floors: make test-floors

test: test-python test-floors test-containers

clean:
	rm -rf $(VENV) reports build *.egg-info .hypothesis
