# Static checks: ruff (pycodestyle, pyflakes, bugbear, pyupgrade) over the whole tree and
# mypy over the packages, both configured in pyproject.toml. `make test` runs this first;
# `make test-fast` is the inner loop: lint, then every test not marked slow (no apt, no
# containers, no browser, no subprocess servers).
.PHONY: lint test-fast
lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy

test-fast: lint
	$(PY) -m pytest --ignore=tests/containers -m "not slow" -q $(PYTEST_ARGS)
