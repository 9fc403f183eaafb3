# Two commands for a newcomer:   make run   (the site on SQLite)   and   make test
# Everything else here is what those two call.
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-dev install-celery run setup test test-sqlite test-mysql lint format bench clean

install: $(VENV)/.installed-runtime

install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	@scripts/system-packages build
	@py=$$(scripts/find-python) && echo "Creating $(VENV) with $$py" && "$$py" -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-runtime: requirements.txt | $(VENV)/bin/python
	@scripts/system-packages build
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements-celery.txt requirements.txt | $(VENV)/bin/python
	@scripts/system-packages build
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(VENV)/.installed-runtime $@

# Optional: Celery and its Redis client, for WORKFLOW_QUEUE=celery.
install-celery: install
	$(PY) -m pip install -q -r requirements-celery.txt

# Schema, wf tables, example flow and first admin user; safe to repeat.
setup: install
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py create_wf_tables
	@$(PY) manage.py bootstrap

# The development server and one worker (runs from the web are executed by workers, never in
# a request). DEBUG is on, so HOST must be this machine's own (loopback) address; production is
# README.md, "Running in production".
run: setup
	@echo "Serving on http://$(HOST):$(PORT)/ (this machine only) with one worker and the scheduler; Ctrl-C stops all three"
	@scripts/serve $(HOST):$(PORT)

test: install-dev
	@scripts/system-packages browser || echo "(browser tests will be skipped: no chromium)"
	@scripts/run-tests

# Style (ruff) and structure: the layer rule of docs/architecture.md (import-linter).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install-dev
	$(PY) benchmarks/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache
