"""The API bench's measurements: the service in-process, the HTTP client, gunicorn and the
runs over HTTP, and the SQL queries a list request makes.

Each run returns ``summary()`` of its latencies, so the report compares them alike.
"""

import http.client
import json
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _setup import ROOT

REQUEST_TIMEOUT = 30


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies: list[float], wall: float) -> dict:
    return {
        "latencies": latencies,
        "n": len(latencies),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "per_s": len(latencies) / wall,
    }


def run_service(invoice_ids: list[int], *, actor, threads: int) -> dict:
    from django.db import connections

    from credits.services import invoice_cancel

    work: queue.Queue = queue.Queue()
    for invoice_id in invoice_ids:
        work.put(invoice_id)
    latencies: list[float] = []
    lock = threading.Lock()

    def worker():
        try:
            while True:
                try:
                    invoice_id = work.get_nowait()
                except queue.Empty:
                    return
                start = time.perf_counter()
                invoice_cancel(invoice=invoice_id, actor=actor, reason="bench", channel="api")
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
        finally:
            connections.close_all()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=600)
    return summary(latencies, time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One HTTP client: a new connection per request, or one kept alive (and re-opened if
    the server closed it)."""

    def __init__(self, port: int, *, keep_alive: bool):
        self.port, self.keep_alive, self.connection = port, keep_alive, None

    def request(self, method: str, path: str, token: str, body: bytes | None = None):
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
            )
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except Exception:
            self.close()
            raise
        if response.will_close or not self.keep_alive:
            self.close()
        return response.status, content

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def request(port: int, method: str, path: str, token: str, body: bytes | None = None):
    return Client(port, keep_alive=False).request(method, path, token, body)


# The web tier as measured: the old command line, and the production config file.
SERVERS = {
    "before": {
        "label": "sync workers, new connection per request",
        "args": ["--config", "/dev/null", "--worker-class", "sync", "--workers", "4"],
        "keep_alive": False,
    },
    "production": {
        "label": "gunicorn.conf.py (gthread, keep-alive), clients keep their connection",
        "args": [],
        "keep_alive": True,
    },
}


def start_gunicorn(*, port: int, env: dict, args: list[str], tree: Path = ROOT) -> subprocess.Popen:
    """gunicorn serving the code of ``tree`` (its working directory comes first on the path)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            *args,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=tree,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            status, _body = request(port, "GET", "/api/v1/me", "nobody")
            if status == 401:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


def run_http_cancels(
    port: int, token: str, invoice_ids: list[int], *, clients: int, keep_alive: bool
) -> dict:
    work: queue.Queue = queue.Queue()
    for invoice_id in invoice_ids:
        work.put(invoice_id)
    latencies: list[float] = []
    failures: list = []
    lock = threading.Lock()
    body = json.dumps({"reason": "bench"}).encode()

    def client():
        http_client = Client(port, keep_alive=keep_alive)
        while True:
            try:
                invoice_id = work.get_nowait()
            except queue.Empty:
                http_client.close()
                return
            start = time.perf_counter()
            status, content = http_client.request(
                "POST", f"/api/v1/invoices/{invoice_id}/cancel", token, body
            )
            elapsed = time.perf_counter() - start
            with lock:
                if status == 201:
                    latencies.append(elapsed)
                else:
                    failures.append((status, content[:200]))

    started = time.perf_counter()
    pool = [threading.Thread(target=client) for _ in range(clients)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=600)
    if failures:
        raise SystemExit(f"{len(failures)} cancels failed, e.g. {failures[:3]}")
    return summary(latencies, time.perf_counter() - started)


def run_http_gets(
    port: int, token: str, paths: list[str], *, repeat: int, keep_alive: bool = True
) -> dict:
    latencies = []
    http_client = Client(port, keep_alive=keep_alive)
    started = time.perf_counter()
    for _round in range(repeat):
        for path in paths:
            start = time.perf_counter()
            status, content = http_client.request("GET", path, token)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"GET {path} answered {status}: {content[:200]}")
    http_client.close()
    return summary(latencies, time.perf_counter() - started)


def count_queries(path: str, token: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.content[:200])
    return len(captured.captured_queries)
