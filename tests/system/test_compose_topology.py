"""docker-compose.yml's topology beyond one machine, read as compose reads it (Docker does not
run here): the `scale` profile's PgBouncer in transaction mode with web and worker replicas
behind it, the `replica` profile's streaming standby, beat once; and the settings those
services' environment gives."""

import json
import re
import secrets
import subprocess
from pathlib import Path

import yaml

from tests.embedded import run_manage

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# What an operator sets before `docker compose --profile scale --profile replica up`.
OPERATOR = {
    "DJANGO_SECRET_KEY": "k" * 50,
    "POSTGRES_PASSWORD": "owner-secret",
    "POSTGRES_APP_PASSWORD": "app-secret",
    "POSTGRES_REPLICATION_PASSWORD": "replication-secret",
    "DATABASE_REPLICA_URL": "postgres://coworking_app:app-secret@postgres-replica:5432/coworking",
}
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value, env: dict):
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` over ``value``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        assert kind != "?", f"{name} is required: {rest}"
        return rest if kind == "-" else ""

    return VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$$")


def service(name: str, env: dict | None = None) -> dict:
    return interpolate(SERVICES[name], OPERATOR if env is None else env)


def profiled(profile: str) -> set[str]:
    return {name for name, spec in SERVICES.items() if profile in spec.get("profiles", [])}


def host_of(url: str) -> str:
    return re.match(r"postgres://[^@]+@([^:/]+)", url).group(1)


def test_the_profiles_add_the_pooler_the_replicas_and_the_standby_and_nothing_else():
    assert profiled("scale") == {"pgbouncer", "web-pooled", "worker-pooled"}
    assert profiled("replica") == {"postgres-replica"}
    unprofiled = {name for name, spec in SERVICES.items() if not spec.get("profiles")}
    assert unprofiled == {"postgres", "redis", "migrate", "web", "worker", "beat"}


def test_pgbouncer_pools_by_transaction_in_front_of_postgres_as_the_application_role():
    pgbouncer = service("pgbouncer")
    env = pgbouncer["environment"]
    assert env["POOL_MODE"] == "transaction"
    assert (env["DB_HOST"], env["DB_PORT"], env["LISTEN_PORT"]) == ("postgres", "5432", "5432")
    assert (env["DB_USER"], env["DB_PASSWORD"]) == ("coworking_app", "app-secret")
    assert int(env["MAX_CLIENT_CONN"]) > int(env["DEFAULT_POOL_SIZE"]) > 0
    assert pgbouncer["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert pgbouncer["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]


def test_web_and_worker_replicas_connect_through_pgbouncer_with_transaction_pooling():
    for name, base in (("web-pooled", "web"), ("worker-pooled", "worker")):
        pooled, direct = service(name), service(base)
        env = pooled["environment"]
        assert host_of(env["DATABASE_URL"]) == "pgbouncer", name
        assert env["DATABASE_URL"].startswith("postgres://coworking_app:app-secret@"), name
        assert env["DATABASE_POOLING"] == "transaction", name
        assert env["DATABASE_REPLICA_URL"] == OPERATOR["DATABASE_REPLICA_URL"], name
        assert int(pooled["deploy"]["replicas"]) > 1, name
        # The same process as the direct service, with the same health check.
        assert pooled["command"] == direct["command"], name
        assert pooled["healthcheck"] == direct["healthcheck"], name
        assert pooled["depends_on"]["pgbouncer"] == {"condition": "service_healthy"}, name
        assert pooled["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, (
            name
        )
        # Everything else of the application's environment is the direct service's.
        same = {k: v for k, v in direct["environment"].items() if k != "DATABASE_URL"}
        assert {k: env[k] for k in same} == same, name
    assert re.fullmatch(r"\d+-\d+:8000", service("web-pooled")["ports"][0])


def test_migrations_and_beat_stay_single_and_direct():
    migrate = service("migrate")
    assert host_of(migrate["environment"]["DATABASE_URL"]) == "postgres"
    beats = [name for name, spec in SERVICES.items() if "beat" in spec.get("command", [])]
    assert beats == ["beat"]
    assert service("beat")["deploy"]["replicas"] == 1


def test_the_standby_is_cloned_from_the_primary_by_the_scripts_mounted_into_both():
    standby, primary = service("postgres-replica"), service("postgres")
    assert standby["image"] == primary["image"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in standby["volumes"]}
    assert mounts["/usr/local/bin/standby.sh"] == "./deploy/postgres/standby.sh"
    assert standby["entrypoint"] == ["sh", "/usr/local/bin/standby.sh"]
    primary_mounts = {m.split(":")[1]: m.split(":")[0] for m in primary["volumes"]}
    init = primary_mounts["/docker-entrypoint-initdb.d/replication.sh"]
    assert init == "./deploy/postgres/primary-replication.sh"
    assert primary["environment"]["POSTGRES_REPLICATION_PASSWORD"] == "replication-secret"
    for script in (init, "./deploy/postgres/standby.sh"):
        path = ROOT / script
        subprocess.run(["sh", "-n", str(path)], check=True)
    standby_script = (ROOT / "deploy/postgres/standby.sh").read_text()
    assert "pg_basebackup -h postgres" in standby_script and " -R " in standby_script
    assert "REPLICATION" in (ROOT / init).read_text()
    assert "replicadata" in COMPOSE["volumes"]
    assert host_of(OPERATOR["DATABASE_REPLICA_URL"]) == "postgres-replica"


def test_without_the_replica_the_pooled_services_read_everything_from_the_primary():
    env = {key: value for key, value in OPERATOR.items() if key != "DATABASE_REPLICA_URL"}
    assert service("web-pooled", env)["environment"]["DATABASE_REPLICA_URL"] == ""


def test_the_pooled_services_environment_configures_django_for_transaction_pooling():
    """The settings the web replicas get: client-side cursors on the pooled primary, a
    replica alias reports read from, writes routed to the primary."""
    env = service("web-pooled")["environment"]
    code = (
        "import json; from django.conf import settings; from coworking.db import reporting_db; "
        "print(json.dumps({alias: db.get('DISABLE_SERVER_SIDE_CURSORS', False) "
        "for alias, db in settings.DATABASES.items()} | {'reporting': reporting_db(), "
        "'host': settings.DATABASES['default']['HOST']}))"
    )
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        env={
            "PATH": "/usr/bin:/bin",
            **{k: str(v) for k, v in env.items()},
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        },
    )
    assert json.loads(result.stdout) == {
        "default": True,
        "replica": False,
        "reporting": "replica",
        "host": "pgbouncer",
    }


def test_a_pooling_mode_that_is_not_one_stops_the_process_with_a_sentence():
    result = run_manage(
        "check",
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
            "DATABASE_POOLING": "transactions",
        },
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("DATABASE_POOLING='transactions' is not a pooling")
    assert "Traceback" not in result.stderr
