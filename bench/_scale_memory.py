"""The scale bench's memory check: the resident size of a gunicorn worker after a sequence of
requests (lists, pages, a year's statement PDF) and of a Celery worker after rendering PDFs,
on the built database. Both run as production runs them (``gunicorn.conf.py``, a Celery
worker of the ``config`` app), on 127.0.0.1."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "scale-bench-only"  # the bench database's staff user; a throw-away database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, from /proc, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
    return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


class Browser:
    """A cookie-keeping client of one server (the admin's session and CSRF cookies)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def request(self, method: str, path: str, body: str = "", headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers = {"Cookie": cookie, "Host": "127.0.0.1", **(headers or {})}
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, data

    def login(self, username: str) -> None:
        self.request("GET", "/admin/login/")
        status, _ = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            body=f"username={username}&password={PASSWORD}"
            f"&csrfmiddlewaretoken={self.cookies.get('csrftoken', '')}&next=/admin/",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{self.port}/admin/login/",
            },
        )
        if status != 302:
            raise SystemExit(f"admin login answered {status}")


def web_worker_rss(*, env: dict, paths: list[str], rounds: int) -> str:
    """One gunicorn worker (gunicorn.conf.py, WEB_CONCURRENCY=1) serving ``paths`` ``rounds``
    times as a logged-in staff user; its resident size at the end and its peak."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="scale-staff")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    port = free_port()
    # WhiteNoise serves the hashed static files of production: they must be collected.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, **env, "WEB_CONCURRENCY": "1", "DJANGO_DEBUG": "0",
             "GUNICORN_ACCESS_LOG": ""},
    )  # fmt: skip
    try:
        browser = Browser(port)
        deadline = time.monotonic() + 60
        while True:
            try:
                browser.request("GET", "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        browser.login("scale-staff")
        for _ in range(rounds):
            for path in paths:
                status, _body = browser.request("GET", path)
                # A long statement is prepared by the worker: its request redirects.
                if status != 200 and not (status == 302 and "/statement/" in path):
                    raise SystemExit(f"gunicorn: GET {path} answered {status}")
        (worker,) = children(server.pid)
        now, peak = rss_mib(worker)
        return f"{now:.0f} MiB resident after {rounds * len(paths)} requests (peak {peak:.0f} MiB)"
    finally:
        server.terminate()
        server.wait(timeout=30)


def celery_worker_rss(*, env: dict, invoice_ids: list[int], statement_id: int) -> str:
    """A Celery worker (solo pool: the rendering runs in the process measured) rendering
    the PDFs of ``invoice_ids`` and preparing statement ``statement_id`` (a long one); its
    resident size once they are ready, and its peak."""
    from coworking.queue import enqueue
    from invoicing.documents import INVOICE_DOCUMENT
    from invoicing.models import Invoice, PreparedStatement

    worker_env = {**os.environ, **env}
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    subprocess.run([*celery, "purge", "-f"], cwd=ROOT, env=worker_env, capture_output=True)
    worker = subprocess.Popen(
        [*celery, "worker", "--pool=solo", "--loglevel=WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=worker_env,
    )  # fmt: skip
    try:
        for invoice_id in invoice_ids:
            enqueue(INVOICE_DOCUMENT.render_task_name, invoice_id, if_down="")
        enqueue("invoicing.prepare_statement", statement_id, if_down="")
        deadline = time.monotonic() + 600
        pending = Invoice.objects.filter(pk__in=invoice_ids).exclude(pdf_status="ready")
        statement = PreparedStatement.objects.filter(pk=statement_id)
        while pending.exists() or statement.filter(status="pending").exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                return f"stopped: {pending.count()} of {len(invoice_ids)} PDFs not ready"
            time.sleep(1)
        if not statement.filter(status="ready").exists():
            return "stopped: the statement was not prepared"
        now, peak = rss_mib(worker.pid)
        return (
            f"{now:.0f} MiB resident after {len(invoice_ids)} PDFs and a year's statement"
            f" (peak {peak:.0f} MiB)"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=60)
