# The dependency floors: `make test-floors` installs every [project].dependencies entry at
# exactly its `>=` version (pins generated from pyproject.toml by devtools.floors, so the
# floors tested are the floors declared) into a scratch venv, the project with --no-deps,
# and runs tests/floors in it: imports, both apps under gunicorn, a token, a page.
# The venv is kept under build/floors, named by a hash of the pins and the interpreter, so
# a re-run reuses it and a changed floor builds a fresh one.
FLOORS_DIR := build/floors

.PHONY: test-floors
test-floors: install system-packages
	@mkdir -p $(FLOORS_DIR)
	@$(PY) -m devtools.floors pyproject.toml > $(FLOORS_DIR)/pins.txt
	@key=$$({ cat $(FLOORS_DIR)/pins.txt; $(PYTHON) -VV; } | sha256sum | cut -c1-16); \
	venv=$(FLOORS_DIR)/venv-$$key; \
	if [ ! -e $$venv/.installed ]; then \
	    echo "test-floors: building $$venv from $(FLOORS_DIR)/pins.txt"; \
	    rm -rf $(FLOORS_DIR)/venv-*; \
	    $(PYTHON) -m venv $$venv && \
	    $$venv/bin/python -m pip install -q --disable-pip-version-check -r $(FLOORS_DIR)/pins.txt && \
	    $$venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . && \
	    touch $$venv/.installed || { rm -rf $$venv; exit 1; }; \
	fi; \
	FLOORS_PYTHON=$(CURDIR)/$$venv/bin/python $(PY) -m pytest tests/floors -q $(PYTEST_ARGS)
