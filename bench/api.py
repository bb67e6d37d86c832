#!/usr/bin/env python
"""REST API benchmark: the cancel endpoint and the list endpoints under gunicorn.

What it does, in order (all on this machine, loopback only, every loop bounded):

1. (Re)creates its own database (``cw_bench_api`` on the server of ``DATABASE_URL``),
   migrates it and seeds one location with customers, a staff user with an API token,
   a member with many invoices (for the lists) and distinct issued invoices to cancel.
2. Times ``credits.services.invoice_cancel`` in-process on its own share of those
   invoices (the service-level time: same data, same Postgres and Redis), sequentially and
   with 8 threads.
3. Starts gunicorn on 127.0.0.1 (a free port) with the same database and Redis, and sends
   ``POST /api/v1/invoices/{id}/cancel`` over distinct invoices with 1 and 8 concurrent
   clients: latency p50/p95 and throughput, and the ratio to the service-level time (the
   HTTP + DRF overhead: auth, throttle, scoping, policy, serialising the credit note).
   Twice, side by side: *before*, gunicorn's sync workers with a new TCP connection per
   request (what the project ran until the production image), and *production*,
   ``gunicorn.conf.py`` (gthread workers with keep-alive) with clients that keep their
   connection open, as a portal backend or a load balancer does.
4. Times the list endpoints (50 a page) and counts their SQL queries per request
   in-process with Django's test client (the same code path), for two pages and two data
   sizes, to show the count is constant.

Prints a Markdown report (paste it into docs/benchmarks.md). Run: ``make bench-api`` or
``DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/api.py [--cancels 200]``.
"""

import argparse
import http.client
import json
import os
import platform
import queue
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_API_DATABASE", "cw_bench_api")
REQUEST_TIMEOUT = 30


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coworking")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def recreate_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    admin = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname,
        port=parts.port or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        cursor.execute(f'CREATE DATABASE "{BENCH_DB}"')
    admin.close()


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


# --- seeding ----------------------------------------------------------------------------------


def seed(*, cancels: int, list_invoices: int):
    """Issue the invoices through the services; return what the runs need."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from djmoney.money import Money
    from rest_framework.authtoken.models import Token

    from coworking.models import Customer, Location
    from credits.services import invoice_cancel
    from invoicing.services import LineInput, invoice_create_draft, invoice_issue

    location = Location.objects.create(
        name="Bench Space",
        legal_name="Bench Space B.V.",
        street_line1="Loopback 1",
        postcode="1015 BS",
        city="Amsterdam",
        country="NL",
        tax_id="NL000000000B01",
        default_currency="EUR",
        vat_currency="EUR",
        default_tax_rate=Decimal("21"),
        invoice_prefix="BINV",
        credit_note_prefix="BCN",
    )
    users = get_user_model().objects
    staff = users.create_user("bench-staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_invoice", "cancel_invoice", "view_creditnote", "view_customer"]
        )
    )
    customers = [
        Customer.objects.create(
            location=location,
            billing_name=f"Bench member {n}",
            billing_email=f"m{n}@example.com",
            country="NL",
        )
        for n in range(20)
    ]
    member = Customer.objects.create(
        location=location,
        billing_name="Bench list member",
        billing_email="list@example.com",
        country="NL",
        portal_user=users.create_user("bench-member"),
    )
    lines = [
        LineInput("Dedicated desk", Decimal("1"), Money("320.00", "EUR"), Decimal("21")),
        LineInput("Meeting room (hours)", Decimal("3"), Money("35.00", "EUR"), Decimal("9")),
        LineInput("Day pass", Decimal("2"), Money("25.00", "EUR"), Decimal("21")),
    ]

    def issue(customer):
        return invoice_issue(invoice=invoice_create_draft(customer=customer, lines=lines)).pk

    to_cancel = [issue(customers[n % len(customers)]) for n in range(cancels)]
    listed = [issue(member) for _ in range(list_invoices)]
    for invoice_id in listed[: list_invoices // 5]:  # some credit notes for the note list
        invoice_cancel(invoice=invoice_id, actor=staff, reason="bench", channel="system")
    return {
        "staff": staff,
        "staff_token": Token.objects.create(user=staff).key,
        "member": member,
        "member_token": Token.objects.create(user=member.portal_user).key,
        "to_cancel": to_cancel,
    }


# --- service level ----------------------------------------------------------------------------


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


# --- HTTP -------------------------------------------------------------------------------------


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


# --- before/after: two trees' code side by side --------------------------------------------


def compare_trees(*, baseline: Path, n: int, env: dict) -> None:
    """API cancels served by ``baseline``'s code and by this tree's, each under its own
    ``gunicorn.conf.py`` with keep-alive clients, and the in-process service, interleaved
    cancel by cancel (each client thread does one of each in turn, the order rotating), so
    a machine shared with other jobs weighs on all three alike. With 1 and 8 clients."""
    from django.db import connections

    from credits.services import invoice_cancel

    configs = ("service", "baseline", "this tree")
    data = seed(cancels=n * 2 * len(configs), list_invoices=0)
    ids = iter(data["to_cancel"])
    token, actor = data["staff_token"], data["staff"]
    body = json.dumps({"reason": "bench"}).encode()
    trees = {"baseline": baseline.resolve(), "this tree": ROOT}
    ports = {name: free_port() for name in trees}
    servers = {
        name: start_gunicorn(port=ports[name], env=env, args=[], tree=tree)
        for name, tree in trees.items()
    }
    samples = {(config, clients): [] for config in configs for clients in (1, 8)}
    lock = threading.Lock()

    def client(clients: int, triples: queue.Queue) -> None:
        http = {name: Client(port, keep_alive=True) for name, port in ports.items()}
        try:
            while True:
                try:
                    turn, triple = triples.get_nowait()
                except queue.Empty:
                    return
                order = configs[turn % 3 :] + configs[: turn % 3]
                for config, invoice_id in zip(order, triple, strict=True):
                    start = time.perf_counter()
                    if config == "service":
                        invoice_cancel(
                            invoice=invoice_id, actor=actor, reason="bench", channel="api"
                        )
                    else:
                        status, content = http[config].request(
                            "POST", f"/api/v1/invoices/{invoice_id}/cancel", token, body
                        )
                        if status != 201:
                            raise SystemExit(f"{config}: {status} {content[:200]}")
                    elapsed = time.perf_counter() - start
                    with lock:
                        samples[config, clients].append(elapsed)
        finally:
            for connection in http.values():
                connection.close()
            connections.close_all()

    try:
        for port in ports.values():
            run_http_gets(port, token, ["/api/v1/me"], repeat=16, keep_alive=False)
        for clients in (1, 8):
            triples: queue.Queue = queue.Queue()
            for turn in range(n):
                triples.put((turn, [next(ids) for _ in configs]))
            pool = [
                threading.Thread(target=client, args=(clients, triples)) for _ in range(clients)
            ]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join(timeout=600)
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=30)
    from config.celery import app

    app.control.purge()
    print(
        f"Before/after: {n} cancels per configuration and client count, interleaved; "
        f"baseline {baseline} against this tree, each under its gunicorn.conf.py, keep-alive "
        f"clients; load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + "\n"
    )
    print("| clients | code | cancels | p50 ms | p95 ms | mean ms | p50 vs service |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for clients in (1, 8):
        service_p50 = percentile(samples["service", clients], 50) * 1000
        for config in configs:
            values = samples[config, clients]
            p50, p95 = percentile(values, 50) * 1000, percentile(values, 95) * 1000
            label = "service `invoice_cancel`" if config == "service" else config
            print(
                f"| {clients} | {label} | {len(values)} | {p50:.1f} | {p95:.1f} | "
                f"{statistics.fmean(values) * 1000:.1f} | {p50 / service_p50:.2f}x |"
            )


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cancels", type=int, default=200, help="cancels per run (default 200)")
    parser.add_argument("--list-invoices", type=int, default=500)
    parser.add_argument("--list-requests", type=int, default=20, help="rounds over the pages")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="DATABASE_CONN_MAX_AGE of the web processes (persistent connections; 0: one per request)",
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="instead: this tree's API cancel against another checkout's (e.g. "
        "`git worktree add /tmp/before main`), --cancels of each, interleaved",
    )
    args = parser.parse_args()
    if args.cancels > 2000 or args.list_invoices > 5000 or args.list_requests > 200:
        raise SystemExit("Keep the benchmark bounded: --cancels ≤ 2000, --list-invoices ≤ 5000.")

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    url = bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))  # throw-away
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ["API_CANCEL_THROTTLE_RATE"] = "1000000/minute"  # measure, don't throttle
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    env = {
        **os.environ,
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "GUNICORN_ACCESS_LOG": "",
    }
    if args.baseline_tree:
        compare_trees(baseline=args.baseline_tree, n=args.cancels, env=env)
        return
    t0 = time.perf_counter()
    n = args.cancels
    data = seed(cancels=n * (2 + 2 * len(SERVERS)), list_invoices=args.list_invoices)
    seed_seconds = time.perf_counter() - t0
    ids = iter(data["to_cancel"])

    def share() -> list[int]:
        return [next(ids) for _ in range(n)]

    results = {}
    results["service_1"] = run_service(share(), actor=data["staff"], threads=1)
    results["service_8"] = run_service(share(), actor=data["staff"], threads=8)

    member = data["member"]
    invoice_pages = range(1, min(5, -(-args.list_invoices // 50)) + 1)
    note_pages = range(1, min(5, -(-(args.list_invoices // 5) // 50)) + 1)
    list_paths = {
        "invoices": [f"/api/v1/invoices?page={p}" for p in invoice_pages],
        "credit-notes": [f"/api/v1/credit-notes?page={p}" for p in note_pages],
        "ledger": [f"/api/v1/customers/{member.pk}/ledger?page={p}" for p in invoice_pages],
    }
    queries = {
        name: [count_queries(path, data["member_token"]) for path in paths]
        for name, paths in list_paths.items()
    }
    queries["invoices (page_size=10)"] = [
        count_queries("/api/v1/invoices?page_size=10", data["member_token"])
    ]

    token = data["staff_token"]
    lists = {}
    for name, server_config in SERVERS.items():
        port = free_port()
        server = start_gunicorn(port=port, env=env, args=server_config["args"])
        keep_alive = server_config["keep_alive"]
        try:
            # Warm every worker (imports, connections) before measuring.
            run_http_gets(port, token, ["/api/v1/me"], repeat=16, keep_alive=False)
            for clients in (1, 8):
                results[f"{name}_{clients}"] = run_http_cancels(
                    port, token, share(), clients=clients, keep_alive=keep_alive
                )
            if name == "production":
                lists = {
                    list_name: run_http_gets(
                        port, data["member_token"], paths, repeat=args.list_requests
                    )
                    for list_name, paths in list_paths.items()
                }
        finally:
            server.terminate()
            server.wait(timeout=30)

    from config.celery import app

    purged = app.control.purge()  # the PDF renders the cancels queued (throw-away data)

    def row(label, r, base=None):
        ratio = f"{r['p50_ms'] / base['p50_ms']:.2f}x" if base else "1.00x"
        return (
            f"| {label} | {r['n']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['per_s']:.0f} | {ratio} |"
        )

    cpu = platform.processor() or platform.machine()
    print(
        f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}; "
        f"gunicorn on 127.0.0.1 (DATABASE_CONN_MAX_AGE={args.conn_max_age}), PostgreSQL and "
        f"Redis on loopback; load average before the run: {load_before}. Seeded "
        f"{len(data['to_cancel']) + args.list_invoices} invoices in {seed_seconds:.1f} s; "
        f"purged {purged} queued PDF tasks afterwards.\n"
    )
    print(
        "Cancel over distinct invoices (3 lines each, 20 customers of one location, so the "
        "credit-note counter row is shared):\n"
    )
    print("| run | cancels | p50 ms | p95 ms | cancels/s | p50 vs service |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for clients in (1, 8):
        unit = "thread" if clients == 1 else "threads"
        service = results[f"service_{clients}"]
        print(row(f"service `invoice_cancel`, {clients} {unit}", service))
        for name, server_config in SERVERS.items():
            label = f"HTTP, {clients} client{'s' if clients > 1 else ''}: {server_config['label']}"
            print(row(label, results[f"{name}_{clients}"], service))
    print()
    print(f"Lists (member with {args.list_invoices} invoices, 50 a page, 1 keep-alive client):\n")
    print("| endpoint | requests | p50 ms | p95 ms | SQL queries per request (per page) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, r in lists.items():
        print(
            f"| {name} | {r['n']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{', '.join(map(str, queries[name]))} |"
        )
    print(
        f"| invoices (page_size=10) | – | – | – | "
        f"{', '.join(map(str, queries['invoices (page_size=10)']))} |"
    )


if __name__ == "__main__":
    main()
