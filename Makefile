# The two commands: `make run` (demo app) and `make test` (the test suite on PostgreSQL + Redis).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/coworking
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# Local development runs with DEBUG on (a random secret key kept in var/); production never
# does (see the README's production section). The demo may send webhooks to a receiver on
# this machine (loopback), which production refuses.
DEV_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-1} WEBHOOKS_ALLOW_LOOPBACK=$${WEBHOOKS_ALLOW_LOOPBACK:-1}
# The suite runs as production does: DEBUG off, and persistent database connections of 60 s
# as the image sets them (a connection per request or task would open some 2,700 in a run,
# each costing PostgreSQL a backend to start and its caches to fill), with a throw-away
# secret key. It keeps its bytecode caches (git ignores them) even where the environment
# says not to write them (PYTHONDONTWRITEBYTECODE): otherwise every worker compiles and
# assertion-rewrites the test modules and the pytest plugins (hypothesis, schemathesis)
# again, each run (a worker's collection: 13.4 CPU seconds without the caches, 6.4 with),
# and every command a test starts compiles the project.
TEST_ENV := DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	DATABASE_CONN_MAX_AGE=$${DATABASE_CONN_MAX_AGE:-60} \
	PYTHONDONTWRITEBYTECODE=

.PHONY: install run demo-reset test lint typecheck reconcile bench bench-serial bench-pdf bench-api bench-einvoice bench-webhooks bench-deadlocks bench-journal bench-scale

# --- Set-up -----------------------------------------------------------------------------------
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# --- Running the app --------------------------------------------------------------------------
# Embedded without DATABASE_URL (SQLite, tasks in-process); with REDIS_URL a Celery worker and
# beat run beside the server.
# On PostgreSQL the database is created first when the server allows it. The server (and the
# worker) run in the background of one shell that stops them all when make is stopped
# (Ctrl-C, or `kill` of make: make passes SIGTERM on) or when the server is stopped (`kill`
# of it), waits for them and ends without an error: stopping is how a run ends. Make itself,
# when it is the one signalled, still ends by that signal (status 130 or 143, no message).
# Beat keeps its schedule in var/.
run: install
	@$(DEV_ENV) $(PY) manage.py ensure_database
	@$(DEV_ENV) $(PY) manage.py migrate --noinput -v0
	@$(DEV_ENV) PORT=$(PORT) $(PY) manage.py seed_demo
	@pids=""; \
	trap 'kill $$pids 2>/dev/null' EXIT; \
	trap 'kill $$pids 2>/dev/null; wait; echo "Stopped."; exit 0' INT TERM; \
	if [ -n "$$REDIS_URL" ]; then \
		echo "Starting a Celery worker (with beat) on $$REDIS_URL"; \
		$(DEV_ENV) $(VENV)/bin/celery -A config worker -B -s var/celerybeat-schedule \
			--loglevel=INFO & pids="$$!"; \
	fi; \
	$(DEV_ENV) $(PY) manage.py runserver --noreload 127.0.0.1:$(PORT) & pids="$$pids $$!"; \
	wait $$!; status=$$?; \
	case $$status in 130|143) echo "Stopped."; exit 0;; *) exit $$status;; esac

# Erase the local demo (database and stored documents) and seed it again; asks first.
demo-reset: install
	@$(DEV_ENV) $(PY) manage.py demo_reset $(if $(YES),--yes)
	@$(DEV_ENV) $(PY) manage.py migrate --noinput -v0
	@$(DEV_ENV) PORT=$(PORT) $(PY) manage.py seed_demo

reconcile: install
	$(DEV_ENV) $(PY) manage.py reconcile

# --- Checks -----------------------------------------------------------------------------------
# The whole suite in TEST_WORKERS pytest-xdist processes, each with its own PostgreSQL test
# database (test_<name>_gwN) and Redis database (REDIS_URL's + N, tests/conftest.py); tests of
# one xdist_group run in one worker. TEST_WORKERS=0 runs it in this process, one at a time.
TEST_WORKERS ?= 3
test: install
	$(TEST_ENV) $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The code as ruff and import-linter want it, and no model change without its migration.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

# mypy with the Django, DRF and Celery stubs: modules listed strict in pyproject.toml have no
# error; elsewhere the number of errors may only go down (.mypy-baseline holds it: lower it
# when you fix some).
typecheck: install
	@mkdir -p var; limit=$$(cat .mypy-baseline); \
	count=$$($(TEST_ENV) $(VENV)/bin/mypy 2>&1 | tee var/mypy.txt | grep -c ': error:'); \
	echo "mypy: $$count errors (limit $$limit; the list is in var/mypy.txt)"; \
	if grep -E '^(config/|coworking/queue\.py).*: error:' var/mypy.txt; then \
		echo "mypy: the strict modules above must have no error"; exit 1; fi; \
	if [ "$$count" -gt "$$limit" ]; then \
		echo "mypy: $$count errors, more than the $$limit recorded in .mypy-baseline"; exit 1; fi

# --- Benchmarks (bench/, results in docs/benchmarks.md); each uses a database of its own -----
BENCH_PDF_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cw_bench_pdf
BENCH_WEBHOOKS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cw_bench_webhooks

# The cancel service against a hand-written psycopg baseline.
bench: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)_bench} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/cancel.py

# Credit-note PDF rendering time per document.
bench-pdf: install
	BENCH_PDF_DATABASE_URL=$(BENCH_PDF_DATABASE_URL) $(PY) bench/pdf.py

# One location's serial section: 1 vs 4 processes cancelling / crediting part of invoices.
bench-serial: install
	DATABASE_URL=$${BENCH_SERIAL_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cw_bench_serial} \
		REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} $(PY) bench/serial.py $(BENCH_ARGS)

# The REST API under gunicorn on 127.0.0.1 (gunicorn.conf.py): cancel latency/throughput vs
# the service, lists. Recreates its own database, cw_bench_api, on the server of DATABASE_URL.
bench-api: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/api.py $(BENCH_ARGS)

# The journal exports over a year of a million lines (time and peak memory).
bench-journal: install
	DATABASE_URL=$${BENCH_JOURNAL_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cw_bench_journal} \
		REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} $(PY) bench/journal.py $(BENCH_ARGS)

# Webhook delivery: a burst of cancels while Celery workers deliver to a local receiver.
bench-webhooks: install
	DATABASE_URL=$(BENCH_WEBHOOKS_DATABASE_URL) REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/webhooks.py $(BENCH_ARGS)

# E-invoices: building and validating one document (bench/einvoice.py), on a database of its own.
BENCH_EINVOICE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cw_bench_einvoice
bench-einvoice: install
	DATABASE_URL=$(BENCH_EINVOICE_DATABASE_URL) $(PY) bench/einvoice.py

# Deadlocks: credit notes issued back to back while a Celery worker records their PDFs.
bench-deadlocks: install
	DATABASE_URL=$${BENCH_DEADLOCKS_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cw_bench_deadlocks} \
		REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} $(PY) bench/deadlocks.py $(BENCH_ARGS)

# Scale: a database of SIZE invoices built in bulk SQL (guards on), then the request paths,
# services and batch jobs timed on it (docs/benchmarks.md, "Scale"). Its database is
# cw_scale_SIZE on the server of DATABASE_URL. BENCH_ARGS: --memory, --reuse, --compare FILE.
SIZE ?= 10000
bench-scale: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) bench/scale.py --size $(SIZE) $(BENCH_ARGS)
