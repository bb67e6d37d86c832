"""Deadlocks of credit notes issued back to back while a real Celery worker records their
PDFs (not a test). Run: ``make bench-deadlocks``.

On a dedicated PostgreSQL database: one invoice of N units, a Celery worker process on the
same Redis, then N one-unit credit notes issued one after the other through the service the
API calls (``credits.services.credit_note_issue``), while the worker renders and records
each previous note's PDF (``credit_note.pdf_ready`` writes the invoice's event stream, as the
issue does). A note refused by a deadlock is issued again, as a client retries a 503.
Reports the deadlocks PostgreSQL counted on the database (``pg_stat_database.deadlocks``),
those the issuing side met (the other victim is the worker, whose render is retried), the
worker's PDF retries, and that every PDF ended ready. The lock order this exercises is
documented in ``coworking.locking``.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from _setup import ROOT, django_on_bench_database, make_location

django_on_bench_database("cw_bench_deadlocks")

from django.conf import settings  # noqa: E402
from django.db import OperationalError, connection  # noqa: E402
from djmoney.money import Money  # noqa: E402

from config.celery import app as celery_app  # noqa: E402
from credits.models import CreditNote  # noqa: E402
from credits.services import LineCredit, credit_note_issue  # noqa: E402
from invoicing.models import Channel  # noqa: E402
from invoicing.services import LineInput, invoice_create_draft, invoice_issue  # noqa: E402


def database_deadlocks() -> int:
    time.sleep(1.5)  # backends publish their statistics within a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def start_worker(log) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PRIVATE_DOCUMENTS_ROOT": tempfile.mkdtemp(prefix="bench-deadlocks-"),
        "LOG_FORMAT": "text",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
               "--without-gossip", "--without-mingle", "--without-heartbeat",
               "--loglevel=INFO"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=100, help="one-unit credit notes to issue")
    args = parser.parse_args()

    customer = make_location("DL")
    line = LineInput(
        description="Day pass",
        quantity=Decimal(args.notes),
        unit_price=Money(Decimal("25.00"), "EUR"),
        tax_rate=Decimal("21"),
    )
    invoice = invoice_issue(invoice=invoice_create_draft(customer=customer, lines=[line]))
    line_id = invoice.lines.get().pk
    celery_app.control.purge()
    before = database_deadlocks()

    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        worker = start_worker(log)
        try:
            time.sleep(5)  # let the worker connect
            refused = 0
            started = time.perf_counter()
            issued = 0
            while issued < args.notes:
                try:
                    credit_note_issue(
                        invoice=invoice.pk,
                        lines=[LineCredit(line_id, Decimal("1"))],
                        actor=None,
                        channel=Channel.API,
                    )
                except OperationalError as error:
                    if "deadlock" not in str(error):
                        raise
                    refused += 1
                else:
                    issued += 1
            issuing = time.perf_counter() - started
            deadline = time.monotonic() + 600
            notes = CreditNote.objects.filter(invoice=invoice)
            while notes.exclude(pdf_status=CreditNote.PdfStatus.READY).exists():
                if time.monotonic() > deadline:
                    break
                time.sleep(1)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        log.seek(0)
        worker_log = log.read()
    after = database_deadlocks()

    ready = notes.filter(pdf_status=CreditNote.PdfStatus.READY).count()
    print(f"{args.notes} one-unit credit notes issued back to back in {issuing:.1f} s")
    print(f"deadlocks counted by PostgreSQL on the database: {after - before}")
    print(f"issues refused by a deadlock (issued again): {refused}")
    print(f"worker: PDF renders retried {worker_log.count('Retry in')}")
    print(f"PDFs ready: {ready} of {notes.count()}")


if __name__ == "__main__":
    main()
