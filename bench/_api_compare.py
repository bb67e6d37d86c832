"""The API bench's ``--baseline-tree`` mode: another checkout's API cancel against this one's,
interleaved so a shared machine weighs on both alike."""

import json
import os
import queue
import statistics
import threading
import time
from pathlib import Path

from _api_data import seed
from _api_measure import Client, free_port, percentile, run_http_gets, start_gunicorn
from _setup import ROOT


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
