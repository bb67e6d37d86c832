"""Benchmark of webhook delivery (not a test). Run: ``make bench-webhooks``.

On a dedicated PostgreSQL database: seeds N issued invoices, starts a receiver on 127.0.0.1
(a free port) that verifies every signature with the ``standardwebhooks`` library, registers
an endpoint for ``invoice.cancelled`` and ``credit_note.issued``, starts Celery worker
processes on the same Redis, then cancels the N invoices in a burst from 4 threads while the
workers deliver. Reports the cancels (they only write two outbox rows each; delivery runs
beside them), the delivery throughput and the latency from an event's commit to its
arrival. PDF rendering is switched off here (it has its own benchmark, bench/pdf.py) so the
workers only deliver webhooks.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

from _setup import ROOT, django_on_bench_database, make_location, percentile, seed

django_on_bench_database("cw_bench_webhooks")

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from config.celery import app as celery_app  # noqa: E402
from coworking import events  # noqa: E402
from coworking.events import EventType  # noqa: E402
from credits.reconciliation import reconcile  # noqa: E402
from credits.services import invoice_cancel  # noqa: E402
from tests.webhook_receiver import Receiver  # noqa: E402
from webhooks.models import Delivery, Event  # noqa: E402
from webhooks.services import endpoint_create  # noqa: E402

TYPES = (EventType.INVOICE_CANCELLED, EventType.CREDIT_NOTE_ISSUED)


def start_workers(processes: int, concurrency: int) -> list[subprocess.Popen]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "WEBHOOKS_ALLOW_LOOPBACK": "1",
        "WEBHOOKS_REQUIRE_HTTPS": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "0",
    }
    env.setdefault("DJANGO_SECRET_KEY", "bench-only")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker",
               f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
               "--without-heartbeat", "--loglevel=WARNING"]  # fmt: skip
    return [
        subprocess.Popen(
            [*command, f"--hostname=bench{i}@%h"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(processes)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="invoices cancelled in the burst")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="prefork children each")
    args = parser.parse_args()
    n = args.n

    # Only the in-transaction subscribers (the outbox): no PDFs queued.
    for event_type, handlers in list(events._subscribers.items()):
        events._subscribers[event_type] = [h for h in handlers if h[1]]
    t0 = time.perf_counter()
    invoice_ids = seed(make_location("WHK"), n)
    print(f"seeded {n} invoices in {time.perf_counter() - t0:.1f}s")
    celery_app.control.purge()  # the invoice.issued dispatches of the seed: no endpoint wants them

    with Receiver() as receiver:
        settings.WEBHOOKS_ALLOW_LOOPBACK, settings.WEBHOOKS_REQUIRE_HTTPS = True, False
        endpoint, secret = endpoint_create(url=f"{receiver.url}/hooks", event_types=TYPES)
        receiver.secrets.append(secret)
        workers = start_workers(args.workers, args.concurrency)
        try:
            time.sleep(5)  # let the workers connect
            connections.close_all()
            chunks = [invoice_ids[i::4] for i in range(4)]
            cancel_times: list[float] = []

            def work(chunk):
                try:
                    for invoice_id in chunk:
                        start = time.perf_counter()
                        invoice_cancel(invoice=invoice_id, actor=None, channel="admin_bulk")
                        cancel_times.append(time.perf_counter() - start)
                finally:
                    connections.close_all()

            burst_start = time.time()
            threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            burst_end = time.time()
            expected = n * len(TYPES)
            deadline = time.monotonic() + 900
            while len(receiver.ids()) < expected and time.monotonic() < deadline:
                time.sleep(0.2)
            last_arrival = max(item.received_at for item in receiver.received)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=60)
        celery_app.control.purge()

    created = {
        str(pk): at.timestamp()
        for pk, at in Event.objects.filter(type__in=TYPES, invoice_id__in=invoice_ids).values_list(
            "pk", "created_at"
        )
    }
    received = receiver.received
    first_arrival = {}
    for item in received:
        first_arrival.setdefault(item.webhook_id, item.received_at)
    latencies = [(first_arrival[i] - created[i]) * 1000 for i in first_arrival if i in created]
    delivered = Delivery.objects.filter(endpoint=endpoint, status="delivered").count()
    ms = [t * 1000 for t in cancel_times]

    print(
        f"\nburst: {n} cancels from 4 threads in {burst_end - burst_start:.2f}s "
        f"({n / (burst_end - burst_start):.0f}/s); per cancel median {statistics.median(ms):.2f} ms,"
        f" p95 {percentile(ms, 0.95):.2f} ms (workers delivering meanwhile)"
    )
    print(
        f"deliveries: {delivered} of {expected} delivered, {len(first_arrival)} distinct ids "
        f"received in {len(received)} requests, "
        f"{sum(not item.verified for item in received)} bad signatures"
    )
    span = last_arrival - burst_start
    print(
        f"  last arrival {last_arrival - burst_end:.2f}s after the burst ended; "
        f"{len(first_arrival) / span:.0f} deliveries/s from the first cancel to the last "
        f"arrival ({args.workers} worker processes x {args.concurrency})"
    )
    print(
        f"  commit -> received: median {statistics.median(latencies):.0f} ms, "
        f"p95 {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms"
    )
    breaches = {k: v for k, v in reconcile().items() if v}
    print(f"reconcile after the run: {breaches or 'clean'}")


if __name__ == "__main__":
    main()
