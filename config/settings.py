"""Settings come from the environment so every process (web, worker, beat) is configured the
same way. One block per concern; each block reads its own environment variables.

Defaults are safe: ``DEBUG`` is off unless ``DJANGO_DEBUG=1`` (``make run`` sets it), and with
``DEBUG`` off the process refuses to start without ``DJANGO_SECRET_KEY``. Without
``DATABASE_URL`` the app runs embedded (SQLite in ``var/``, Celery tasks run in-process);
with ``DATABASE_URL``/``REDIS_URL`` it uses PostgreSQL and a Redis broker. The production
environment is documented in docs/operations.md; tests always use PostgreSQL (``tests/conftest.py``).
"""

import datetime
import ipaddress
import os
import secrets
import sys
from pathlib import Path

import csp.constants as csp
import dj_database_url

from config.beat import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Security: debug, secret key, hosts, HTTPS ------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)


def _development_secret_key() -> str:
    """DEBUG only: a random key kept in var/ (so sessions survive runserver's reloads); no key
    is ever published."""
    path = BASE_DIR / "var" / "dev-secret-key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        sys.exit(
            "DJANGO_SECRET_KEY is not set: set it to a long random string (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or set "
            "DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Served over HTTPS (DJANGO_HTTPS=1): secure cookies, redirect to https, HSTS. Behind a proxy
# or load balancer that terminates TLS, DJANGO_SECURE_PROXY_SSL_HEADER=1 trusts its
# X-Forwarded-Proto header (only set it when the proxy always sets that header).
HTTPS = env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes come over plain HTTP
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", HTTPS)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Applications, middleware, templates ------------------------------------------------------
INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",  # runserver serves static files as gunicorn does
    "coworking.admin_site.AdminConfig",  # Django's admin with the project's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djmoney",
    "django_countries",
    "sequences.apps.SequencesConfig",
    "pgtrigger",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "health_check",
    "coworking",
    "invoicing",
    "credits",
    "books",
    "webhooks",
]

MIDDLEWARE = [
    "coworking.health.HealthProbeMiddleware",  # first: probes skip host checks and redirects
    "coworking.middleware.RejectNulCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header (see below)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Content-Security-Policy on every response (django-csp): scripts only from this site or
# inline with the request's nonce (``nonce="{{ request.csp_nonce }}"``), nothing embedded
# from elsewhere, no framing. Styles may be inline (the admin's and Swagger UI's style
# attributes); images may be data: URLs (Swagger UI's icons); Redoc's search runs in a blob:
# worker. The API's Swagger page loads its setup script from this site
# (SpectacularSwaggerSplitView), not inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.UNSAFE_INLINE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF, "data:"],
        "connect-src": [csp.SELF],
        "worker-src": [csp.SELF, "blob:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}


TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
if not os.environ.get("DATABASE_URL"):
    # Embedded default for a first run: SQLite in var/ (created here so it just works).
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        # Persistent connections (seconds; each gunicorn thread keeps its own). Checking one
        # before each request's first query costs a round trip per request, so it is off by
        # default: after a PostgreSQL restart each thread fails one request, then reconnects.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", False),
    )
}


def _pooled(
    database: dj_database_url.DBConfig, *, pooling_variable: str
) -> dj_database_url.DBConfig:
    """``database`` as it must be set behind a pooler named by ``pooling_variable``: empty
    (a direct connection, the default), ``session`` (PgBouncer's session mode: nothing
    changes) or ``transaction`` (PgBouncer's transaction mode, where each transaction may run
    on another server connection). There a server-side cursor, declared in one transaction
    and read in the next, would be looked for on a connection that never declared it, so
    ``.iterator()`` reads with client-side cursors. Every lock the code takes already ends
    with its transaction (docs/operations.md, "Behind PgBouncer")."""
    pooling = os.environ.get(pooling_variable, "").strip().lower()
    if pooling not in {"", "session", "transaction"}:
        sys.exit(
            f"{pooling_variable}={pooling!r} is not a pooling mode: leave it empty (a direct "
            "connection), or set it to session or transaction (PgBouncer's pool_mode)."
        )
    if pooling == "transaction":
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
    return database


_pooled(DATABASES["default"], pooling_variable="DATABASE_POOLING")
# An optional streaming replica: reports, statements and exports read from it
# (``coworking.db.reporting_db``); every write, and every read in a transaction or under a
# lock, goes to the primary (``coworking.db.PrimaryRouter``). Tests mirror it onto the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _pooled(
        dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
            conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", False),
        ),
        pooling_variable="DATABASE_REPLICA_POOLING",
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPORTING_DATABASE = "replica" if DATABASE_REPLICA_URL else "default"
DATABASE_ROUTERS = ["coworking.db.PrimaryRouter"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default: a transaction takes SQLite's write lock when it begins, so
    # transactions that read then write run one at a time (no "database is locked" on the
    # upgrade, and an idempotency key's read-then-store is serialised: coworking.idempotency).
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (API throttle counters): shared by all web processes through Redis ---------------
# The cache only protects (throttles fail open when it is down): short socket timeouts bound
# what a hung Redis costs a request.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cw",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Authentication ---------------------------------------------------------------------------
# Staff log in to the admin with a password. django-axes counts failed logins per username and
# address in the database (every web process sees them): after AXES_FAILURE_LIMIT failures
# that username is locked out from that address (HTTP 429) for AXES_COOLOFF_MINUTES; a
# success resets the count. Behind TRUSTED_PROXY_COUNT proxies (the documented TLS proxy: 1)
# the address is the one the outermost proxy saw (coworking/client_address.py), so clients
# behind the proxy do not share one address and a forged X-Forwarded-For entry changes nothing.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "coworking.auth.PermissionBackend",  # ModelBackend, permissions loaded in one statement
]
# A staff session (the admin, the API's session auth) ends when the browser closes (no
# persistent cookie) and, server-side, a working day after the login (DJANGO_SESSION_HOURS):
# a forgotten session on a shared machine does not stay open overnight.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_HOURS", 9) * 3600
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "coworking.client_address.client_address"
AXES_RESET_ON_SUCCESS = True
# Django's full set: not like the username or e-mail, at least 12 characters, not one of the
# 20,000 most common passwords, not all digits.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages and time -----------------------------------------------------------------------
# The admin speaks the browser's language among LANGUAGES; English is written the European
# way (day-month-year, 24-hour clock: coworking/formats/, coworking/l10n.py).
LANGUAGE_CODE = "en"
# Documents and e-mails are in the customer's language, else its location's
# (``coworking.documents.rendering.document_language``).
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["coworking.formats"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

# --- Files: static files (WhiteNoise) and private documents -----------------------------------
# `manage.py collectstatic` (run when the image is built) writes compressed copies with
# content-hashed names to STATIC_ROOT; WhiteNoise serves them from every web process with
# far-future cache headers. Issued documents (PDFs) are private: they live outside
# MEDIA_ROOT and are only served through views that check ownership. Point the "documents"
# storage at an object store (django-storages) in production; the code only uses the
# storage API.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
MEDIA_ROOT = BASE_DIR / "var" / "media"
PRIVATE_DOCUMENTS_ROOT = Path(
    os.environ.get("PRIVATE_DOCUMENTS_ROOT", BASE_DIR / "var" / "private")
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_DOCUMENTS_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "coworking.storage.StaticFilesStorage"},
}

# --- Health probes (coworking/health.py) ----------------------------------------------------
# /healthz is public. /readyz answers requests that reach the process directly (no
# X-Forwarded-For) from READYZ_ALLOWED_NETWORKS (default: loopback, where the container's own
# healthcheck runs), or that carry READYZ_TOKEN as "Authorization: Bearer <token>"; anything
# else is a 403. One result serves every probe of a process for READYZ_CACHE_SECONDS.
READYZ_ALLOWED_NETWORKS = [
    ipaddress.ip_network(network, strict=False)
    for network in env_list("READYZ_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
]
READYZ_TOKEN = os.environ.get("READYZ_TOKEN", "")
READYZ_CACHE_SECONDS = env_int("READYZ_CACHE_SECONDS", 5)

# --- Money: the currencies the operator bills in (amounts are stored with 2 decimals) ---------
CURRENCIES = ("EUR", "GBP", "USD", "CHF")
DEFAULT_CURRENCY = None

# --- Celery: broker, task behaviour, the one beat schedule ------------------------------------
# A Redis broker when REDIS_URL is set; otherwise tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
# Acknowledgement is set on each task (docs/operations.md, "Tasks: delivery guarantees"); the default,
# for the periodic sweeps, is early: a sweep lost with its worker runs again at the next beat.
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Bulk cancellations run long: on a queue of their own (with their sweep), they never hold
# PDFs and webhooks back. Every worker consumes both queues unless started with -Q.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {"celery": {}, "bulk": {}}
CELERY_TASK_ROUTES = {
    "credits.run_bulk_cancellation": {"queue": "bulk"},
    "credits.requeue_bulk_cancellations": {"queue": "bulk"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep LOGGING's format in workers too
# A cancel must not hang when the broker is down: fail fast (connect and read timeouts; the
# read timeout stays above kombu's 1 s BRPOP poll of the worker), the sweeps catch up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Visibility timeout: a message taken by a worker that dies unacknowledged (late-acked tasks)
# goes back to the queue after 15 minutes. It must stay above the longest countdown
# (WEBHOOKS_QUEUE_RETRIES_UP_TO) or that task runs twice; the sweeps (PDFs, webhooks,
# stale bulk runs) bring lost work back sooner.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
    "visibility_timeout": 900,
}
CELERY_TASK_PUBLISH_RETRY = False
# Publishing after commit (coworking.queue.enqueue, on the request path) waits less: its own
# connection with half-second timeouts, and after a failure the broker is skipped for
# CELERY_PUBLISH_BACKOFF seconds (what was not queued waits for the sweeps), so a hung broker
# costs a request (or a whole admin bulk) one such timeout.
CELERY_PUBLISH_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "socket_connect_timeout": 0.5,
    "socket_timeout": 0.5,
}
CELERY_PUBLISH_BACKOFF = float(os.environ.get("CELERY_PUBLISH_BACKOFF", "30"))
CELERY_PUBLISH_POOL_LIMIT = 16  # connections per process, more than its threads
BULK_CANCELLATION_SWEEP_EVERY = float(os.environ.get("BULK_CANCELLATION_SWEEP_EVERY", "60"))
# Statements prepared in the background are kept this long for their download.
PREPARED_STATEMENTS_KEPT_DAYS = int(os.environ.get("PREPARED_STATEMENTS_KEPT_DAYS", "7"))
# Run by exactly one `celery beat` process (docker-compose.yml's `beat` service).
# `reconcile`: what changed since the last clean run, nightly; everything, weekly (it resets
# the checkpoint). Crontab fields "minute hour day-of-month month day-of-week"; empty: off.
RECONCILE_INCREMENTAL_SCHEDULE = os.environ.get("RECONCILE_INCREMENTAL_SCHEDULE", "30 2 * * *")
RECONCILE_FULL_SCHEDULE = os.environ.get("RECONCILE_FULL_SCHEDULE", "30 3 * * 0")
CELERY_BEAT_SCHEDULE = beat_schedule(
    bulk_sweep_every=BULK_CANCELLATION_SWEEP_EVERY,
    reconcile_incremental=RECONCILE_INCREMENTAL_SCHEDULE,
    reconcile_full=RECONCILE_FULL_SCHEDULE,
)

# --- E-mail -----------------------------------------------------------------------------------
# SMTP (DJANGO_EMAIL_HOST ...) unless DEBUG, where e-mails (with their PDFs) are written to
# var/mail/ for a look.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "billing@example.com")

# --- Documents: PDFs of invoices and credit notes (coworking.documents) -----------------------
# A failed render is retried with exponential backoff (seconds, doubled each retry, capped),
# then the document is marked `failed` with the reason. The sweeps render every PDF still
# pending a minute after its document was issued (broker down, lost task, lost file).
DOCUMENT_PDF_MAX_RETRIES = env_int("DOCUMENT_PDF_MAX_RETRIES", 4)
DOCUMENT_PDF_RETRY_BACKOFF = float(os.environ.get("DOCUMENT_PDF_RETRY_BACKOFF", "10"))
DOCUMENT_PDF_RETRY_BACKOFF_MAX = 600
DOCUMENT_PDF_RETRY_JITTER = True
DOCUMENT_PDF_SWEEP_AFTER = 60  # seconds after the document was issued
# After that, a PDF that failed for good is tried again by the sweep: first after
# DOCUMENT_PDF_SWEEP_RETRY_BACKOFF seconds, doubled each time up to ..._MAX, for
# DOCUMENT_PDF_SWEEP_RETRY_FOR seconds after its first failure (a storage outage outlasts the
# task's retries); then it waits for staff (the hourly warning names it).
DOCUMENT_PDF_SWEEP_RETRY_BACKOFF = env_int("DOCUMENT_PDF_SWEEP_RETRY_BACKOFF", 300)
DOCUMENT_PDF_SWEEP_RETRY_BACKOFF_MAX = env_int("DOCUMENT_PDF_SWEEP_RETRY_BACKOFF_MAX", 3600)
DOCUMENT_PDF_SWEEP_RETRY_FOR = env_int("DOCUMENT_PDF_SWEEP_RETRY_FOR", 86400)

# --- Credit notes: e-mails, bulk cancellations ------------------------------------------------
CREDIT_NOTE_EMAIL_MAX_RETRIES = env_int("CREDIT_NOTE_EMAIL_MAX_RETRIES", 5)
# Admin bulk cancel: selections larger than this run as a Celery task with a progress page;
# one still `queued` this many seconds after it started is queued again by beat.
ADMIN_BULK_CANCEL_ASYNC_THRESHOLD = env_int("ADMIN_BULK_CANCEL_ASYNC_THRESHOLD", 200)
BULK_CANCELLATION_REQUEUE_AFTER = 60
# A running bulk cancellation whose heartbeat (written every second by its runner) is older
# than this lost its worker: beat's sweep (every BULK_CANCELLATION_SWEEP_EVERY seconds)
# queues it again.
BULK_CANCELLATION_STALE_AFTER = float(os.environ.get("BULK_CANCELLATION_STALE_AFTER", "120"))
# A selection cancelled within the request stops starting new cancels after this many seconds
# (well inside gunicorn's 60 s timeout) and reports the rest as not attempted.
ADMIN_BULK_CANCEL_TIME_BUDGET = float(os.environ.get("ADMIN_BULK_CANCEL_TIME_BUDGET", "20"))

# --- The admin home: which models each section lists (coworking.admin_site) ------------------
ADMIN_SECTIONS = {
    "finance": [
        "invoicing.invoice",
        "credits.creditnote",
        "coworking.customer",
        "invoicing.payment",
        "credits.refund",
    ],
    "setup": ["coworking.location", "coworking.exchangerate"],
    "system": ["credits.bulkcancellation", "credits.cancellationevent"],
}

# --- Webhooks: the event outbox and its signed deliveries (webhooks/) -------------------------
# Where deliveries may go: https only (unless DEBUG), never to loopback, private or link-local
# addresses. WEBHOOKS_ALLOW_LOOPBACK=1 lets loopback through for tests and the demo.
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", not DEBUG)
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", False)
WEBHOOKS_TIMEOUT = float(os.environ.get("WEBHOOKS_TIMEOUT", "10"))  # seconds to connect, to answer
WEBHOOKS_RESPONSE_MAX_BYTES = 64 * 1024  # read at most this much of an answer
WEBHOOKS_RESPONSE_EXCERPT_BYTES = 2048  # and keep this much of it with the attempt
# Seconds between attempts (7 attempts over about 18 hours), each ±20%; then `failed`.
WEBHOOKS_RETRY_SCHEDULE = tuple(
    float(delay) for delay in env_list("WEBHOOKS_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000")
)
WEBHOOKS_RETRY_JITTER = 0.2
# Retries due within this many seconds are queued with a countdown; later ones are queued by
# the sweep when due (Redis hands an unacknowledged countdown out again after its visibility
# timeout, 15 minutes in CELERY_BROKER_TRANSPORT_OPTIONS, so a longer countdown would run
# twice).
WEBHOOKS_QUEUE_RETRIES_UP_TO = 600
# A worker holds a delivery for WEBHOOKS_TIMEOUT + this; then the sweep takes it back.
WEBHOOKS_LEASE_MARGIN = float(os.environ.get("WEBHOOKS_LEASE_MARGIN", "30"))
# An endpoint failing continuously this long (seconds; default 5 days) is disabled.
WEBHOOKS_DISABLE_AFTER = float(os.environ.get("WEBHOOKS_DISABLE_AFTER", str(5 * 24 * 3600)))
# After a rotation the previous secret signs too for this long (seconds; default a day).
WEBHOOKS_SECRET_OVERLAP = float(os.environ.get("WEBHOOKS_SECRET_OVERLAP", str(24 * 3600)))
WEBHOOKS_SWEEP_AFTER = 60  # the sweep dispatches events still undispatched this long after
WEBHOOKS_REQUEUE_AFTER = 600  # and queues again deliveries queued this long ago, not picked up

# --- REST API (/api/v1/) ----------------------------------------------------------------------
# Portal clients authenticate with a token (`manage.py create_api_token USERNAME`); a browser
# with its admin session can browse the API. Errors are application/problem+json (see
# coworking/api/problems.py); the schema is at /api/v1/schema/, its docs at /api/v1/docs/.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coworking.auth.TokenAuthentication",  # DRF's, the user read by one statement
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["coworking.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "coworking.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # the client's address, as for axes
    "DEFAULT_THROTTLE_CLASSES": ["coworking.api.throttling.ReadThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "read": os.environ.get("API_READ_THROTTLE_RATE", "600/minute"),
        "document_download": os.environ.get("API_DOCUMENT_THROTTLE_RATE", "30/minute"),
        "invoice_cancel": os.environ.get("API_CANCEL_THROTTLE_RATE", "30/minute"),
    },
    "EXCEPTION_HANDLER": "coworking.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "coworking.api.schema.ProblemAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Coworking back-office API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "DESCRIPTION": (
        "The member portal and back-office API.\n\n"
        "**Authentication**: `Authorization: Token <key>` (ask the operator for a token) "
        "or the admin session cookie.\n\n"
        "**Who sees what**: a member sees only their own customer's issued invoices, "
        "credit notes, ledger and balance; staff see what their permissions allow. "
        "Anything else is a 404, whether or not it exists.\n\n"
        "**Pagination**: lists take `page` (from 1) and `page_size` (default 50, at most "
        "200) and answer `count`, `next`, `previous`, `results`.\n\n"
        "**Errors**: every 4xx is `application/problem+json` with `type`, `title`, "
        "`status`, `detail` and a stable `code` (e.g. `invoice_already_cancelled`), plus "
        "`errors` per field for invalid input (422).\n\n"
        "**Idempotency**: POST endpoints take an `Idempotency-Key` header; keys are kept "
        "for 24 hours.\n\n"
        "**Throttling**, per user (HTTP 429 with Retry-After): reads (default 600 a "
        "minute, setting `API_READ_THROTTLE_RATE`), PDF downloads besides (default 30 a "
        "minute, `API_DOCUMENT_THROTTLE_RATE`), cancelling (default 30 a minute, "
        "`API_CANCEL_THROTTLE_RATE`)."
    ),
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "invoicing.models.Channel",
        "CurrencyEnum": "coworking.money.CURRENCY_CHOICES",
        "AllowanceChargeKindEnum": "coworking.allowances.AllowanceChargeKind",
    },
}

# The OpenAPI documents (/api/v1/schema/, /api/v1/webhooks/schema/) and their pages
# (/api/v1/docs/, /api/v1/redoc/) need a signed-in user unless API_SCHEMA_PUBLIC=1.
API_SCHEMA_PUBLIC = env_bool("API_SCHEMA_PUBLIC", False)
WEBHOOKS_API_VERSION = SPECTACULAR_SETTINGS["VERSION"]  # of the representations in webhooks

# --- Logging ----------------------------------------------------------------------------------
# One line per record on stderr. LOG_FORMAT=json (the default with DEBUG off) writes JSON
# objects with the structured fields the code passes in `extra` (invoice, credit_note, actor,
# channel, duration_ms, ...); LOG_FORMAT=text writes plain lines for a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint logs every rendering step at INFO; keep its warnings only.
        "weasyprint.progress": {"level": "WARNING"},
        # The factur-x package logs each XML it builds or checks at INFO.
        "factur-x": {"level": "WARNING"},
        # django-axes announces its version at INFO in every process and command (three
        # times before `make run` says where to log in).
        "axes.apps": {"level": "WARNING"},
    },
}

# --- The books' DATEV export -----------------------------------------------------------------
# The tax adviser's and client's numbers in the EXTF header, and the BU-Schlüssel put on
# reverse-charge revenue (agree it with the adviser: it depends on their chart).
BOOKS_DATEV_ADVISER = env_int("BOOKS_DATEV_ADVISER", 1001)
BOOKS_DATEV_CLIENT = env_int("BOOKS_DATEV_CLIENT", 1)
BOOKS_DATEV_REVERSE_CHARGE_KEY = os.environ.get("BOOKS_DATEV_REVERSE_CHARGE_KEY", "46")
