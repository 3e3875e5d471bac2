# The two commands a newcomer needs: `make run` (the whole stack on this machine) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# checkov pins packaging below 24 and pytest 9 needs 24: resolved with the dev extra, pip would
# settle on a checkov a year older. It gets a venv of its own (tests find it via tests/docker/helpers.py).
TOOLS_VENV := .venv-tools
PG_URL ?= postgres://postgres@127.0.0.1:5432/supply
# xdist workers: the machine has 2 cores; the e2e suites mostly wait on sockets.
WORKERS ?= 4

.PHONY: install test test-sqlite test-postgres lint bench run clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(TOOLS_VENV)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r requirements-tools.txt
	touch $@

install: $(VENV)/.installed $(TOOLS_VENV)/.installed

# SQLite (the embedded default) for everything, then PostgreSQL for everything that touches the
# database. Tests marked `postgres` need real row locks and run only in the second pass.
test: install
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	$(PY) -m pytest -n $(WORKERS) --dist loadgroup -m "not postgres" tests

test-postgres: install
	DATABASE_URL=$(PG_URL) $(PY) -m pytest -n $(WORKERS) --dist loadgroup tests/supply tests/e2e

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy pki supply tests docker/healthcheck.py

bench: install
	$(PY) -m tests.bench

run: install
	$(PY) -m tests.harness.make_run

clean:
	rm -rf $(VENV) $(TOOLS_VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
