# The two commands: `make run` (demo app) and `make test` (the test suite on PostgreSQL + Redis).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/coworking
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test lint bench reconcile

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
		echo "Starting a Celery worker (with beat) on $$REDIS_URL"; \
		$(VENV)/bin/celery -A coworking worker -B --loglevel=INFO & worker=$$!; \
		trap 'kill $$worker' EXIT INT TERM; \
		$(PY) manage.py runserver 127.0.0.1:8000; \
	else \
		$(PY) manage.py runserver 127.0.0.1:8000; \
	fi

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)_bench} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/cancel.py

reconcile: install
	$(PY) manage.py reconcile

# --- Credit-note PDF benchmark (bench/pdf.py; its own database, created and migrated) ----------
BENCH_PDF_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cw_bench_pdf

.PHONY: bench-pdf
bench-pdf: install
	BENCH_PDF_DATABASE_URL=$(BENCH_PDF_DATABASE_URL) $(PY) bench/pdf.py


# --- REST API (issue 6) ---------------------------------------------------------------------
.PHONY: bench-api
# The REST API under gunicorn on 127.0.0.1: cancel latency/throughput vs the service, lists.
# Uses (and recreates) its own database, cw_bench_api, on the server of DATABASE_URL.
bench-api: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/api.py $(BENCH_ARGS)
