"""The production path, without Docker: the commands of docker-compose.yml (migrate, gunicorn
with gunicorn.conf.py, a Celery worker, beat, and the health checks) run here with the
production settings (DEBUG off, a secret key, WhiteNoise serving what collectstatic wrote at
"build" time), on the test database and a Redis server of their own, which the test stops to
see /readyz name the broker."""

import http.client
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from credits.models import CreditNote
from tests.conftest import wait_until
from tests.factories import issued_invoice, staff_user
from tests.faults import database_url, free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
MISSING_KEY = "DJANGO_SECRET_KEY is not set"

pytestmark = pytest.mark.django_db(transaction=True)


def compose(service: str, key: str = "command") -> list[str]:
    """A command of docker-compose.yml as the container would run it (``$$`` is compose's
    escape for ``$``); healthchecks drop their CMD / CMD-SHELL marker."""
    value = COMPOSE["services"][service]
    if key == "healthcheck":
        kind, *command = value["healthcheck"]["test"]
        command = ["sh", "-c", command[0]] if kind == "CMD-SHELL" else command
    else:
        command = value[key]
    return [part.replace("$$", "$") for part in command]


@pytest.fixture
def production_env(tmp_path):
    """The environment of the compose services, pointed at this machine: DEBUG off, a secret
    key, the test database, static files and PDFs in tmp dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_STATIC_ROOT=str(tmp_path / "staticfiles"),
        DATABASE_URL=database_url(),
        DATABASE_CONN_MAX_AGE="60",
        PRIVATE_DOCUMENTS_ROOT=str(tmp_path / "private"),
        HOSTNAME=socket.gethostname(),  # what the worker's health check pings
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
    )
    return env


@pytest.fixture
def static_files(production_env):
    """What the Dockerfile runs at build time: collectstatic into DJANGO_STATIC_ROOT."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    collect = re.search(
        r"RUN (DJANGO_SECRET_KEY=\S+ python manage.py collectstatic[^\\\n]*)", dockerfile
    )
    assert collect, "the Dockerfile collects static files at build time"
    subprocess.run(
        ["sh", "-c", collect.group(1)], cwd=ROOT, env=production_env, check=True, timeout=180
    )
    assert (Path(production_env["DJANGO_STATIC_ROOT"]) / "staticfiles.json").exists()


@pytest.fixture
def own_redis(processes):
    """A Redis server of the test's own on a free port (the broker the test stops)."""
    port = free_port()
    server = processes.start(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        os.environ.copy(),
    )
    wait_until(lambda: _connects(port), timeout=10)
    return server, f"redis://127.0.0.1:{port}/0"


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def get(connection: http.client.HTTPConnection, path: str, **headers):
    connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = connection.getresponse()
    return response, response.read()


def test_the_compose_services_serve_the_admin_readiness_and_a_cancel_with_its_pdf(
    app_role, processes, production_env, static_files, own_redis, tmp_path
):
    redis_server, redis_url = own_redis
    port = free_port()
    env = {**production_env, "REDIS_URL": redis_url, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    user = staff_user(cancel=True)
    token = Token.objects.create(user=user).key
    invoice = issued_invoice()

    # migrate, as the owner: once, the application's role created and granted, and the demo
    # only with DEMO=1.
    role, password = app_role
    migrate = subprocess.run(
        compose("migrate"),
        cwd=ROOT,
        env={**env, "DEMO": "0", "DATABASE_APP_ROLE": role, "DATABASE_APP_PASSWORD": password},
        capture_output=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr.decode()
    assert f"Created the role {role!r}" in migrate.stdout.decode()
    assert not get_user_model().objects.filter(username="admin").exists()
    # web, worker and beat connect as the application's role, which owns nothing.
    env["DATABASE_URL"] = database_url().replace("://postgres@", f"://{role}:{password}@", 1)
    assert f"://{role}:" in env["DATABASE_URL"]

    schedule = tmp_path / "celerybeat-schedule"
    beat_command = [
        f"--schedule={schedule}" if part.startswith("--schedule=") else part
        for part in compose("beat")
    ]
    worker = processes.start("worker", compose("worker"), env)
    beat = processes.start("beat", beat_command, env)
    web = processes.start("web", compose("web"), env)
    wait_until(lambda: _connects(port) or web.poll() is not None, timeout=30)
    assert web.poll() is None, processes.log("web")

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # The admin login page and its CSS, by its content-hashed name, compressed.
    response, page = get(connection, "/admin/login/")
    assert response.status == 200, page[:500]
    css = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    assert css, "the admin links its stylesheet by a hashed name"
    response, body = get(connection, css.group(1).decode(), **{"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/css")
    assert response.getheader("Content-Encoding") == "gzip"
    assert "immutable" in response.getheader("Cache-Control")
    assert not response.will_close  # gthread workers keep the connection alive

    response, body = get(connection, "/readyz", Accept="application/json")
    assert response.status == 200, body
    assert json.loads(body) == {"database": "OK", "broker": "OK", "documents": "OK"}

    # An API cancel: 201, and the worker renders its PDF.
    connection.request(
        "POST",
        f"/api/v1/invoices/{invoice.pk}/cancel",
        body=json.dumps({"reason": "Smoke test"}),
        headers={
            "Host": "127.0.0.1",
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
        },
    )
    response = connection.getresponse()
    assert response.status == 201, response.read()[:500]
    number = json.loads(response.read())["number"]
    wait_until(lambda: CreditNote.objects.get(number=number).pdf_status == "ready", timeout=60)
    assert worker.poll() is None and beat.poll() is None

    # The health checks compose runs.
    web_check = [
        part.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        for part in compose("web", "healthcheck")
    ]
    beat_check = [
        part.replace("/tmp/celerybeat-schedule", str(schedule))
        for part in compose("beat", "healthcheck")
    ]
    for name, check in [
        ("web", web_check),
        ("worker", compose("worker", "healthcheck")),
        ("beat", beat_check),
    ]:
        result = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, timeout=60)
        assert result.returncode == 0, (name, result.stdout, result.stderr)

    # The broker goes away: /readyz says so once its kept result (READYZ_CACHE_SECONDS, 5 s)
    # has expired, and the web's health check fails.
    processes.stop(redis_server)
    deadline = time.monotonic() + 15
    while True:
        response, body = get(connection, "/readyz", Accept="application/json")
        if response.status != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status == 503
    report = json.loads(body)
    assert report["broker"].startswith("Unavailable") and report["database"] == "OK"
    assert (
        subprocess.run(web_check, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode
        != 0
    )
    connection.close()


def test_gunicorn_without_a_secret_key_exits_with_the_sentence(production_env):
    env = {k: v for k, v in production_env.items() if k != "DJANGO_SECRET_KEY"}
    env["GUNICORN_BIND"] = f"127.0.0.1:{free_port()}"

    result = subprocess.run(
        compose("web"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert MISSING_KEY in result.stderr, shlex.join(compose("web")) + "\n" + result.stderr
