"""Settings come from the environment so every process is configured the same way.

Without ``DATABASE_URL`` the app runs embedded (SQLite, Celery tasks run in-process);
with ``DATABASE_URL``/``REDIS_URL`` it uses PostgreSQL and a Redis broker. Tests always
use PostgreSQL (see ``tests/conftest.py``).
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
ALLOWED_HOSTS = [
    h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djmoney",
    "sequences.apps.SequencesConfig",
    "pgtrigger",
    "rest_framework",
    "drf_spectacular",
    "coworking",
    "invoicing",
    "credits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "coworking.urls"
WSGI_APPLICATION = "coworking.wsgi.application"

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

if not os.environ.get("DATABASE_URL"):
    # Embedded default for a first run: SQLite in var/ (created here so it just works).
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"

# Issued documents (PDFs) are private: they live outside MEDIA_ROOT and are only served
# through views that check ownership. Point the "documents" storage at an object store
# (django-storages) in production; the code only uses the storage API.
PRIVATE_DOCUMENTS_ROOT = Path(
    os.environ.get("PRIVATE_DOCUMENTS_ROOT", BASE_DIR / "var" / "private")
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_DOCUMENTS_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "media"

# Money: the currencies the operator bills in. Amounts are stored with 2 decimals.
CURRENCIES = ("EUR", "GBP", "USD", "CHF")
DEFAULT_CURRENCY = None

# Celery: a Redis broker when REDIS_URL is set; otherwise tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A cancel must not hang when the broker is down: fail fast, the sweep catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0, "socket_connect_timeout": 2}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {}

# Development default: e-mails (with their PDFs) are written to var/mail/ for a look.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "billing@example.com")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Coworking back-office API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Credit-note PDFs and e-mail (credits.tasks) ---------------------------------------------
# A failed render is retried with exponential backoff (seconds, doubled each retry, capped),
# then the note is marked `failed` with the reason. The sweep renders every PDF still pending
# a minute after its note was issued (broker down at cancel time, lost task).
CREDIT_NOTE_PDF_MAX_RETRIES = int(os.environ.get("CREDIT_NOTE_PDF_MAX_RETRIES", "4"))
CREDIT_NOTE_PDF_RETRY_BACKOFF = float(os.environ.get("CREDIT_NOTE_PDF_RETRY_BACKOFF", "10"))
CREDIT_NOTE_PDF_RETRY_BACKOFF_MAX = 600
CREDIT_NOTE_PDF_RETRY_JITTER = True
CREDIT_NOTE_PDF_SWEEP_AFTER = 60  # seconds after the note was issued
CREDIT_NOTE_EMAIL_MAX_RETRIES = int(os.environ.get("CREDIT_NOTE_EMAIL_MAX_RETRIES", "5"))
CELERY_BEAT_SCHEDULE["credits.render_missing_pdfs"] = {
    "task": "credits.render_missing_pdfs",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# A broker that accepts the connection but never answers (overloaded, half-open) must not
# hang the cancel either: bound the reads too (above kombu's 1 s BRPOP poll of the worker).
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "socket_timeout": 3}
# WeasyPrint logs every rendering step at INFO; keep its warnings only.
LOGGING.setdefault("loggers", {})["weasyprint.progress"] = {"level": "WARNING"}

# Admin bulk cancel: selections larger than this run as a Celery task with a progress page.
ADMIN_BULK_CANCEL_ASYNC_THRESHOLD = int(os.environ.get("ADMIN_BULK_CANCEL_ASYNC_THRESHOLD", "200"))


# --- REST API (/api/v1/, issue 6) -----------------------------------------------------------
# Portal clients authenticate with a token (`manage.py create_api_token USERNAME`); a browser
# with its admin session can browse the API. Errors are application/problem+json (see
# coworking/api/problems.py); the schema is at /api/v1/schema/, its docs at /api/v1/docs/.
INSTALLED_APPS += ["rest_framework.authtoken", "drf_spectacular_sidecar"]

# Throttle counters (and any other cache use) are shared by all web processes through Redis.
# The cache only protects (throttles fail open when it is down): short socket timeouts bound
# what a hung Redis costs a request.
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

REST_FRAMEWORK.update(
    {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.TokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "DEFAULT_RENDERER_CLASSES": [
            "rest_framework.renderers.JSONRenderer",
            "rest_framework.renderers.BrowsableAPIRenderer",
        ],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_PAGINATION_CLASS": "coworking.api.pagination.StandardPagination",
        "PAGE_SIZE": 50,
        "DEFAULT_THROTTLE_CLASSES": [],
        "DEFAULT_THROTTLE_RATES": {
            "invoice_cancel": os.environ.get("API_CANCEL_THROTTLE_RATE", "30/minute"),
        },
        "EXCEPTION_HANDLER": "coworking.api.problems.problem_exception_handler",
        "DEFAULT_SCHEMA_CLASS": "coworking.api.schema.ProblemAutoSchema",
        "TEST_REQUEST_DEFAULT_FORMAT": "json",
    }
)
SPECTACULAR_SETTINGS.update(
    {
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
            "**Throttling**: cancelling is limited per user (default 30 a minute, setting "
            "`API_CANCEL_THROTTLE_RATE`; HTTP 429 with Retry-After)."
        ),
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        "COMPONENT_SPLIT_REQUEST": True,
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "ENUM_NAME_OVERRIDES": {
            "ChannelEnum": "invoicing.models.Channel",
            "CurrencyEnum": "coworking.money.CURRENCY_CHOICES",
        },
    }
)

CELERY_BEAT_SCHEDULE["purge-idempotency-keys"] = {
    "task": "coworking.purge_idempotency_keys",
    "schedule": 3600.0,
}
# --- end of REST API ------------------------------------------------------------------------
