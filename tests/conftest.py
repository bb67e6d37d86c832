"""Test set-up: PostgreSQL and Redis only, never SQLite or mocks of them."""

import gc
import os
import re
import urllib.parse
from contextlib import contextmanager

import pytest
from django.conf import settings

# --- The services the tests run on: PostgreSQL and Redis ----------------------------------


def _take_this_workers_redis_database() -> None:
    """``make test`` runs the suite in pytest-xdist workers (``gw0``, ``gw1``, ...), each with
    its own test database (pytest-django's ``test_<name>_gwN``) and its own Redis database:
    the one that many after ``REDIS_URL``'s, so no worker consumes, purges or throttles
    through another's queue and counters. The settings were read before this module, so the
    ones holding the URL are pointed there too, and the environment, which the processes a
    test starts (workers, servers, commands) inherit."""
    worker, shared = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("REDIS_URL", "")
    if not worker.startswith("gw") or not shared:
        return
    parts = urllib.parse.urlsplit(shared)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    own = urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))
    if own == shared:
        return
    os.environ["REDIS_URL"] = settings.REDIS_URL = settings.CELERY_BROKER_URL = own
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": own},
    }
    left = [
        name
        for name in dir(settings)
        if name.isupper() and repr(shared) in repr(getattr(settings, name))
    ]
    assert not left, f"settings still naming the shared Redis database {shared}: {left}"


_take_this_workers_redis_database()

# The cyclic garbage collector of a test process runs after 50,000 new container objects
# instead of Python's 700: the ORM and the document builders allocate thousands per
# service call, so at 700 it ran some 6,000 times over 500 tests, 85 times at 50,000, for
# half the CPU (docs/benchmarks.md, "The test suite"). Memory is not short here; the
# processes a test starts keep Python's default.
gc.set_threshold(50_000, 20, 20)


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
            dbname="postgres",
            user=db["USER"],
            password=db["PASSWORD"] or None,
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            connect_timeout=3,
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


# The longest tests, longest first (measured with ``--durations``): pytest-xdist hands tests
# out in collection order, so these start at once instead of leaving one worker busy at the end.
# The first two go to two workers: one migrates the run's PostgreSQL template while the other
# migrates its SQLite one (``tests/embedded.py``), side by side.
LONGEST_FIRST = (
    "tests/webhooks/test_webhooks_concurrency.py",  # the first on PostgreSQL: migrates
    "tests/browser/test_admin_browser_embedded.py",  # the first on SQLite: migrates too
    "tests/sqlite/",
    "tests/admin/test_admin_bulk_async.py",
    "tests/credits/test_numbering_concurrency.py",
    "tests/system/test_worker_faults.py",
    "tests/coworking/test_addresses_database.py",
    "tests/credits/test_invariants_property.py",
    "tests/system/test_production_smoke.py",
    "tests/api/test_api_schema.py",
    "tests/browser/",
    "tests/documents/test_pdf_reproducible.py",
    "tests/system/test_production_settings.py",
    "tests/system/test_idempotency_faults.py",
    "tests/webhooks/test_webhooks_delivery.py",
)


def pytest_collection_modifyitems(items):
    """Schemathesis names the item of each API operation ``test[GET /path]`` but, under
    pytest 9, gives them all the test function's node id; pytest-xdist runs tests by node id
    and would run one operation of thirteen. Each item takes its own name as its id. Then
    the longest tests move to the front (``LONGEST_FIRST``), the others keep their order."""
    for item in items:
        if item.nodeid.rpartition("::")[2] != item.name and item._id.params is None:
            item._id = item._id.with_params(item.name.partition("[")[2].removesuffix("]"))

    def rank(item) -> int:
        path = item.nodeid.partition("::")[0]
        return next(
            (n for n, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)),
            len(LONGEST_FIRST),
        )

    items.sort(key=rank)


_cpu_report = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """With ``TEST_CPU_REPORT=DIR``, each test's CPU seconds (set-up, call and tear-down:
    this process, its threads and the child processes it waited for; the database server's
    not included) and wall seconds go to ``DIR/<worker>.tsv``. On a loaded machine wall
    time says little; CPU time still says where the suite's time goes."""
    global _cpu_report
    folder = os.environ.get("TEST_CPU_REPORT")
    if not folder:
        yield
        return
    import resource
    import time

    def cpu() -> float:
        own, children = (
            resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    if _cpu_report is None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        _cpu_report = open(os.path.join(folder, f"{worker}.tsv"), "a", buffering=1)  # noqa: SIM115
        _cpu_report.write(f"(start-up)\t{cpu():.3f}\t\n")
    cpu_before, wall_before = cpu(), time.perf_counter()
    yield
    spent = cpu() - cpu_before
    _cpu_report.write(f"{item.nodeid}\t{spent:.3f}\t{time.perf_counter() - wall_before:.3f}\n")


def wait_until(predicate, *, timeout: float = 20.0, interval: float = 0.05):
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"Condition not met within {timeout}s: {predicate}")


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    """A request through the test client activates its language in the test's thread (the
    locale middleware); each test starts and ends in the project's default language."""
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


# --- Test databases: migrated once per run ---------------------------------------------------


def _template_name(test_name: str) -> str:
    """The run's migrated template database: ``test_<name>_template`` for every worker."""
    return re.sub(r"_gw\d+$", "", test_name) + "_template"


def _maintenance_connection():
    import psycopg2

    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    connection.autocommit = True
    return connection


def _copy_of_the_runs_template() -> None:
    """Create this worker's test database as a copy of the run's template, migrating the
    template first if this worker is the run's first here (the others wait on an advisory
    lock). The template names its run (``PYTEST_XDIST_TESTRUNUID``) in its comment, so one
    left by an earlier run, of other migrations, is made again."""
    from django.db import connection

    test_name = connection.creation._get_test_db_name()
    template, run = _template_name(test_name), os.environ["PYTEST_XDIST_TESTRUNUID"]
    admin = _maintenance_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", [template])
            cursor.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [template],
            )
            if cursor.fetchone() != (run,):
                original, test_settings = (
                    connection.settings_dict["NAME"],
                    connection.settings_dict["TEST"],
                )
                test_settings["NAME"] = template
                try:
                    connection.creation.create_test_db(
                        verbosity=0, autoclobber=True, keepdb=False, serialize=False
                    )
                finally:
                    connection.close()
                    test_settings["NAME"] = test_name
                    connection.settings_dict["NAME"] = original
                    settings.DATABASES["default"]["NAME"] = original
                cursor.execute(f'COMMENT ON DATABASE "{template}" IS %s', [run])
            cursor.execute(f'DROP DATABASE IF EXISTS "{test_name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{test_name}" TEMPLATE "{template}"')
            # A commit does not wait for its WAL to reach the disk: a crash of the server
            # could lose the last commits of a throw-away database, and nothing else changes
            # (locks, constraints, visibility are the same).
            cursor.execute(f'ALTER DATABASE "{test_name}" SET synchronous_commit = off')
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [template])
    finally:
        admin.close()


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's set-up, except that the pytest-xdist workers of a run migrate one
    template database and each takes a copy of it (``CREATE DATABASE ... TEMPLATE``): the
    migrations run once per run, not once per worker. ``--reuse-db``, ``--nomigrations``
    and a run in one process keep pytest-django's own way."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    if not django_db_use_migrations:
        _disable_migrations()
    keepdb = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    with django_db_blocker.unblock():
        copied = bool(
            os.environ.get("PYTEST_XDIST_TESTRUNUID") and django_db_use_migrations and not keepdb
        )
        if copied:
            _copy_of_the_runs_template()
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
            keepdb=keepdb or copied,  # the copy is there, migrated: only checked
        )
        for connection, _name, _destroy in db_cfg:
            _remember_as_migrated(connection)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            _end_other_sessions(db_cfg)
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)


def _end_other_sessions(db_cfg) -> None:
    """Close what the session left connected to its test databases before they are dropped:
    a thread's connection, the replica mirror's or PgBouncer's pooled server connections
    outlive their tests, and ``DROP DATABASE`` refuses a database in use."""
    from django.db import connections

    connections.close_all()
    names = [
        c.settings_dict["NAME"] for c, _, destroy in db_cfg if destroy and c.vendor == "postgresql"
    ]
    if not names:
        return
    admin = _maintenance_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
                [names],
            )
    finally:
        admin.close()


def pytest_sessionfinish(session):
    """The run's template goes when the run ends (in the process that started the workers)."""
    if hasattr(session.config, "workerinput") or not getattr(
        session.config.option, "numprocesses", None
    ):
        return
    from django.db import connection

    admin = _maintenance_connection()
    try:
        with admin.cursor() as cursor:
            template = _template_name(connection.creation._get_test_db_name())
            cursor.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    finally:
        admin.close()


# --- Database guards: the test teardown passes them, reconcile tests may break them --------


@pytest.fixture(autouse=True, scope="session")
def flush_past_the_truncate_guards():
    """Tests that commit (``transactional_db``) are cleaned up after: the rows they wrote are
    deleted (``_delete_what_the_test_wrote``), or, where that cannot be done, Django's
    ``flush`` runs, a TRUNCATE the database refuses on the tables of issued documents, which
    the test teardown (and only it) passes with ``pgtrigger.ignore``."""
    import pgtrigger
    from django.db import connections
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        names = self._databases_names(include_mirrors=False)
        if self.available_apps is None and all(
            _delete_what_the_test_wrote(connections[name]) for name in names
        ):
            return
        with pgtrigger.ignore():
            original(self)
        for name in names:
            _remember_as_migrated(connections[name])

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


# The tables ``migrate`` fills, with what it put there (rows and highest id), per database:
# left as they are when they still hold just that.
_MIGRATE_FILLS = ("django_migrations", "django_content_type", "auth_permission")
_as_migrated: dict[str, tuple] = {}


def _delete_what_the_test_wrote(connection) -> bool:
    """Empty the tables a committing test wrote to, in one transaction, then vacuum them:
    the database as ``migrate`` left it, down to the statistics the planner reads (a deleted
    row keeps its page and index entry until a vacuum, and the tests of plan estimates run
    ``ANALYZE``). Django's ``flush`` truncates every table (a new file for each table and
    index) and then makes the content types and permissions again, ten times the cost of
    deleting the few rows a test wrote (the README's Tests section). It needs a superuser
    (``session_replication_role = replica`` holds back the guards and the foreign-key
    checks, as a restore does); ``False`` means "not done, flush".

    The tables ``migrate`` fills are compared with what they held after the set-up or the
    last flush: a test that changed them is flushed, which fills them again."""
    if connection.vendor != "postgresql" or connection.alias not in _as_migrated:
        return False
    from django.db import transaction

    quote = connection.ops.quote_name
    tables = [
        table
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if table not in _MIGRATE_FILLS
    ]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if _migrate_fills(connection) != _as_migrated[connection.alias]:
            return False
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT %s WHERE EXISTS (SELECT FROM {quote(table)})" for table in tables
            ),
            tables,
        )
        to_empty = [table for (table,) in cursor.fetchall()]
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table in to_empty:
            cursor.execute(f"DELETE FROM {quote(table)}")
    if to_empty:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {', '.join(quote(table) for table in to_empty)}")
    return True


def _migrate_fills(connection) -> tuple | None:
    """What the tables ``migrate`` fills hold (rows and highest id of each); ``None`` where
    the rows cannot be deleted past the guards (not a superuser)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('is_superuser') = 'on', "
            + ", ".join(
                f"(SELECT count(*) FROM {quote(t)}), (SELECT max(id) FROM {quote(t)})"
                for t in _MIGRATE_FILLS
            )
        )
        superuser, *fills = cursor.fetchone()
    return tuple(fills) if superuser else None


def _remember_as_migrated(connection) -> None:
    if connection.vendor == "postgresql" and (fills := _migrate_fills(connection)):
        _as_migrated[connection.alias] = fills


@pytest.fixture
def app_role(transactional_db):
    """The name and password of a login role for the application (``manage.py
    grant_app_role --create`` makes it, as ``docker-compose.yml``'s migrate service does).
    Roles outlive the test database: it is dropped at the end, with its privileges."""
    import secrets

    from django.db import connection

    role, password = f"cw_app_test_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    yield role, password
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")


@pytest.fixture
def database_breach(db):
    """For tests of ``reconcile``, the second line of defence: the test breaks an invariant
    with raw SQL that the database refuses at commit. Its transaction is rolled back without
    running those deferred checks (Django's test teardown runs them otherwise)."""
    from django.db import transaction

    yield
    transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def reconciled_after_the_test(request):
    """A test marked ``reconciled`` (money moved by doubled, racing or hostile requests) ends
    with ``reconcile`` over what it left, before its transaction is rolled back or its
    database flushed: the suite leaves no rows behind, so one check at the end of the session
    would read an empty database and could not fail. Tests that break an invariant on
    purpose (``database_breach``) are left out."""
    if (
        request.node.get_closest_marker("reconciled") is None
        or "database_breach" in request.fixturenames
    ):
        yield
        return
    request.getfixturevalue("db")  # so the rollback or flush comes after the check
    yield
    breaches = reconcile_breaches()
    assert breaches == {}, f"reconcile after {request.node.nodeid}: {breaches}"


def reconcile_breaches() -> dict[str, list[str]]:
    """The checks of ``reconcile`` that found something, with what they found."""
    from credits.reconciliation import reconcile

    return {name: found for name, found in reconcile().items() if found}


# --- Beyond one machine: PgBouncer in transaction mode, a read replica ------------------------


def _mirror_a_replica() -> None:
    """A ``replica`` alias on the test database (Django's ``TEST: {"MIRROR": "default"}``)
    when ``DATABASE_REPLICA_URL`` made none, for the tests of what reads from a replica.
    Reports read from it only where a test says so (``settings.REPORTING_DATABASE``); a
    mirror is another connection to the same database, so replication lag is not
    exercised, and a test reading through it commits first (``transaction=True``)."""
    from django.db import connections

    if "replica" in settings.DATABASES:
        return
    settings.DATABASES["replica"] = {
        **settings.DATABASES["default"],
        "TEST": {"MIRROR": "default"},
    }
    connections.__dict__.pop("settings", None)  # read DATABASES again


_mirror_a_replica()


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup, django_db_blocker):
    """A real PgBouncer in transaction pooling mode in front of this worker's test
    database (``tests/pgbouncer.py``), for the whole session."""
    from django.db import connections

    from tests.pgbouncer import EXECUTABLE, PgBouncer

    if not os.access(EXECUTABLE, os.X_OK):
        pytest.fail(
            "PgBouncer is not installed (the concurrency tests run through it): "
            "`apt-get install pgbouncer` (.ci/run does)."
        )
    with django_db_blocker.unblock():
        bouncer = PgBouncer.start(dict(connections["default"].settings_dict))
    yield bouncer
    bouncer.stop()


@pytest.fixture(params=["direct", "pgbouncer"])
def database_route(request, transactional_db):
    """Run the test twice: connected straight to PostgreSQL, then with every connection
    through PgBouncer in transaction mode (the locks must hold there too)."""
    if request.param == "direct":
        yield request.param
        return
    with request.getfixturevalue("pgbouncer").routed():
        yield request.param


# --- Celery -----------------------------------------------------------------------------------


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming from the Redis broker.

    Tasks run against the test database, so the test must commit (``transactional_db``).
    Leftover messages from earlier tests are purged first.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture
def processes(tmp_path):
    """Processes of the test's own (``tests.faults.Processes``: a worker, a server), each in
    its own session, logging to ``tmp_path``; stopped, group and all, at the end."""
    from tests.faults import Processes

    started = Processes(tmp_path)
    yield started
    started.stop_all()


@contextmanager
def broker_unreachable(url: str = "redis://127.0.0.1:1/0"):
    """Point the Celery app's publishing side at ``url`` (by default a port where nothing
    listens), as if the broker were down."""
    from config.celery import app
    from coworking import queue as celery_module

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None
        # enqueue's memory of failed brokers: a port of a stopped Redis may be reused.
        celery_module._broker_down_until.clear()

    original = app.conf.broker_url
    app.conf.broker_url = url
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = original
        reset_pools()


# --- Files: private documents, static files, PDF text ---------------------------------------


@pytest.fixture(autouse=True)
def private_documents(settings, tmp_path, monkeypatch):
    """Point the private "documents" storage (and the documents' PDF fields) at a tmp dir,
    for every test, so PDFs rendered by a worker never land in var/private."""
    from django.core.files.storage import FileSystemStorage

    from credits.models import CreditNote
    from invoicing.models import Invoice, PreparedStatement

    root = tmp_path / "private-documents"
    settings.PRIVATE_DOCUMENTS_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    # The field resolved its storage when the model was defined: swap the instance too.
    storage = FileSystemStorage(location=root, base_url=None)
    for model in (Invoice, CreditNote, PreparedStatement):
        monkeypatch.setattr(model._meta.get_field("pdf_file"), "storage", storage)
    return root


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """Static files by their plain names: the production storage (WhiteNoise's manifest of
    hashed names) needs ``collectstatic``, which only the production smoke test runs."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pdf_text(data: bytes) -> str:
    """The text of a PDF laid out as on the page (poppler's ``pdftotext -layout``)."""
    import subprocess

    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


# --- Pages: amounts as shown -----------------------------------------------------------------


def hidden_inputs(html: str) -> dict[str, str | list[str]]:
    """The hidden inputs of a page, as its form posts them back (a name given more than once,
    like ``_selected_action``, as a list): what a browser sends when staff click Continue."""
    import html as html_lib
    import re

    data: dict[str, str | list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="hidden"' not in tag or "csrfmiddlewaretoken" in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None:
            continue
        key, text = name.group(1), html_lib.unescape(value.group(1) if value else "")
        if key in data:
            earlier = data[key]
            data[key] = [*(earlier if isinstance(earlier, list) else [earlier]), text]
        else:
            data[key] = text
    return data


def money_amounts(html: str) -> list[tuple[str, str]]:
    """``(currency, text)`` of every amount a page shows (``coworking.money.money_html``)."""
    import re

    return re.findall(r'<span class="money"[^>]*data-currency="(\w+)">([^<]*)</span>', html)


# --- Clients of the REST API and their users ------------------------------------------------


@pytest.fixture
def reset_throttles():
    """Forget the API's throttle counters (they live in the shared Redis cache, keyed by
    user id, and ids restart with every test database)."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"*{cache.key_prefix}*throttle_*"):
        client.delete(key)


@pytest.fixture
def api_client(reset_throttles):
    """``api_client(user)`` → a DRF ``APIClient`` authenticated with the user's API token;
    ``api_client(None)`` → an anonymous one."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def make(user=None):
        client = APIClient()
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """MD5 instead of PBKDF2 for users made in any test: each ``UserFactory`` otherwise
    costs a few hundred milliseconds of CPU (a million PBKDF2 rounds), and no test is about
    the hasher. Processes a test starts (servers, commands) keep the production hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Webhooks --------------------------------------------------------------------------------
@pytest.fixture
def webhook_settings(settings):
    """Loopback receivers over plain http, and retries a fifth of a second apart."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_RETRY_SCHEDULE = (0.2,) * 6
    settings.WEBHOOKS_RETRY_JITTER = 0
    settings.WEBHOOKS_TIMEOUT = 5
    return settings


@pytest.fixture
def receiver(webhook_settings):
    """A real receiver on 127.0.0.1 that verifies every signature (tests/webhook_receiver.py)."""
    from tests.webhook_receiver import Receiver

    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint_for(receiver):
    """``endpoint_for(*event_types)`` → an endpoint for those types pointing at ``receiver``,
    which knows its secret. (The test brings the database: ``celery_worker`` or a
    ``django_db`` mark.)"""
    from webhooks.services import endpoint_create

    def make(*event_types):
        created, secret = endpoint_create(url=f"{receiver.url}/hooks", event_types=event_types)
        receiver.secrets.append(secret)
        return created

    return make


@pytest.fixture
def endpoint(endpoint_for):
    """An endpoint for ``invoice.cancelled`` only, pointing at ``receiver``."""
    from coworking.events import EventType

    return endpoint_for(EventType.INVOICE_CANCELLED)
