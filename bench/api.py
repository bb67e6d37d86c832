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

The database and the seeding are in ``bench/_api_data.py``, the runs (service, HTTP client,
gunicorn, query counts) in ``bench/_api_measure.py``, ``--baseline-tree`` in
``bench/_api_compare.py``; this module parses the options, runs them in order and prints.
"""

import argparse
import os
import platform
import secrets
import sys
import time
from pathlib import Path

from _api_compare import compare_trees
from _api_data import bench_database_url, recreate_database, seed
from _api_measure import (
    SERVERS,
    count_queries,
    free_port,
    run_http_cancels,
    run_http_gets,
    run_service,
    start_gunicorn,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
