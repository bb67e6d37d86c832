"""Test set-up: PostgreSQL and Redis only, never SQLite or mocks of them."""

import os

import pytest
from django.conf import settings


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(
            "The tests run on PostgreSQL only. Set DATABASE_URL (make test does: "
            "postgres://postgres@127.0.0.1:5432/coworking) and start PostgreSQL, e.g. "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.",
            returncode=2,
        )
    import psycopg2

    db = settings.DATABASES["default"]
    try:
        psycopg2.connect(
            dbname="postgres", user=db["USER"], password=db["PASSWORD"] or None,
            host=db["HOST"] or None, port=db["PORT"] or None, connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as error:
        pytest.exit(
            f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT']} ({error}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or `docker compose up -d postgres`.",
            returncode=2,
        )
    if not os.environ.get("REDIS_URL"):
        pytest.exit("The tests need Redis: set REDIS_URL (make test does).", returncode=2)
