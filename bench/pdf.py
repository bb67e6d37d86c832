"""Benchmark of document PDF rendering (``coworking.documents.rendering``): ``make bench-pdf``.

Measures, in warm worker processes (Django set up, WeasyPrint imported, a few renders done
before timing), the median and p95 time of ``credits.pdf.credit_note_pdf_bytes`` for a
5-line and a 100-line credit note (wall clock, and the process's CPU time, which other jobs
on a shared machine disturb less), their memory (RSS high-water mark of the process and the
tracemalloc peak of one render), and a bare minimal HTML page rendered by WeasyPrint with
default settings in the same run as the baseline (ratio = our time / bare time). Then
PDFs per second with one process per core, each rendering the 5-line note in a loop, and a
check that every process produced the same bytes. Invoices go through the same renderer
and layout.

The data lives in a dedicated database (``BENCH_PDF_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/cw_bench_pdf``), created and migrated by this script;
each run adds a fresh location with its two credit notes, made through the services (issue,
cancel). Nothing is published to a broker and no PDF is stored: only rendering is timed
(including the query of the note's lines, as the worker does).
"""

import multiprocessing
import os
import platform
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cw_bench_pdf"
SIZES = {"5 lines": 5, "100 lines": 100}
ROUNDS = {"5 lines": 40, "100 lines": 12, "bare HTML page": 40}
WARM_UP = 3
THROUGHPUT_SECONDS = 15.0


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_PDF_DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["REDIS_URL"] = ""  # in-memory broker: the cancel's queued task goes nowhere
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))  # throw-away
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def create_database() -> None:
    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname="postgres", user=db["USER"], host=db["HOST"], port=db["PORT"] or None
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{db["NAME"]}"')
    connection.close()


def make_credit_notes() -> dict[str, int]:
    """A fresh location, customer, and one cancelled invoice per size; returns note ids."""
    from decimal import Decimal

    from djmoney.money import Money

    from coworking.models import Customer, Location
    from credits.services import invoice_cancel
    from invoicing.models import Channel
    from invoicing.services import LineInput, invoice_create_draft, invoice_issue

    tag = f"{os.getpid() % 10000}{int(time.time()) % 100000}"
    location = Location.objects.create(
        name=f"Bench {tag}",
        legal_name=f"Bench Coworking {tag} SAS",
        street_line1="12 rue de la Paix",
        postcode="75002",
        city="Paris",
        country="FR",
        tax_id="FR40123456789",
        registration_id="123456782",
        siret="12345678200002",
        rcs_city="Paris",
        legal_form="SAS",
        share_capital=Decimal("10000.00"),
        default_currency="EUR",
        vat_currency="EUR",
        default_tax_rate=Decimal("20.00"),
        invoice_prefix=f"BI{tag}"[:10],
        credit_note_prefix=f"BC{tag}"[:10],
    )
    customer = Customer.objects.create(
        location=location,
        billing_name="Atelier Dupont SARL",
        billing_email="compta@dupont.example",
        street_line1="3 place du Marché",
        postcode="69001",
        city="Lyon",
        country="FR",
        tax_id="FR11987654321",
        language="fr",
    )
    ids = {}
    for label, count in SIZES.items():
        lines = [
            LineInput(
                description=f"Poste nomade, journée {n}",
                quantity=Decimal(1 + n % 3),
                unit_price=Money(Decimal("25.00") + n, "EUR"),
                tax_rate=Decimal("20.00") if n % 4 else Decimal("10.00"),
            )
            for n in range(1, count + 1)
        ]
        invoice = invoice_issue(invoice=invoice_create_draft(customer=customer, lines=lines))
        note = invoice_cancel(
            invoice=invoice, actor=None, reason="Benchmark", channel=Channel.SYSTEM
        )
        ids[label] = note.pk
    return ids


def _bare_html_pdf_bytes() -> bytes:
    """A minimal HTML page through WeasyPrint with default settings: the baseline."""
    from weasyprint import HTML

    return HTML(string="<!doctype html><title>x</title><p>Hello</p>").write_pdf()


def _renderer(target):
    from credits.models import CreditNote
    from credits.pdf import credit_note_pdf_bytes

    if target is None:
        return _bare_html_pdf_bytes

    def render():
        note = CreditNote.objects.select_related("location", "customer").get(pk=target)
        return credit_note_pdf_bytes(credit_note=note)

    return render


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(args):
    """In a fresh process: warm up, time ``rounds`` renders, then one under tracemalloc."""
    import tracemalloc

    target, rounds = args
    setup_django()
    render = _renderer(target)
    rss_before = _rss_mb()
    for _ in range(WARM_UP):
        data = render()
    times, cpu_times = [], []
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        data = render()
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
    rss_after = _rss_mb()
    tracemalloc.start()
    render()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "times": times,
        "cpu_times": cpu_times,
        "bytes": len(data),
        "rss_before": rss_before,
        "rss_peak": rss_after,
        "py_peak": peak / 2**20,
    }


def throughput_worker(args):
    target, start_at, seconds = args
    import hashlib

    setup_django()
    render = _renderer(target)
    for _ in range(WARM_UP):
        render()
    while time.time() < start_at:
        time.sleep(0.005)
    count, digests, deadline = 0, set(), start_at + seconds
    while time.time() < deadline:
        digests.add(hashlib.sha256(render()).hexdigest())
        count += 1
    return count, time.time() - start_at, digests


def percentile(values, fraction):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    setup_django()
    import weasyprint
    from django.core.management import call_command

    create_database()
    call_command("migrate", verbosity=0)
    ids = make_credit_notes()
    context = multiprocessing.get_context("spawn")

    results = {}
    for label, target in [*ids.items(), ("bare HTML page", None)]:
        with context.Pool(1) as pool:  # a fresh process per document: its own RSS peak
            results[label] = pool.map(measure, [(target, ROUNDS[label])])[0]

    cores = os.cpu_count() or 1
    start_at = time.time() + 20  # every process set up and warm before the clock starts
    with context.Pool(cores) as pool:
        runs = pool.map(throughput_worker, [(ids["5 lines"], start_at, THROUGHPUT_SECONDS)] * cores)
    total = sum(count for count, _elapsed, _digests in runs)
    elapsed = max(elapsed for _count, elapsed, _digests in runs)
    digests = set().union(*(d for _count, _elapsed, d in runs))

    bare = statistics.median(results["bare HTML page"]["times"])
    print("## PDF rendering")
    print()
    print(f"Run on {time.strftime('%Y-%m-%d')}.")
    print()
    print(
        f"WeasyPrint {weasyprint.__version__}, Python {platform.python_version()}, "
        f"{cores} cores ({platform.machine()}), shared with other jobs. Warm process, "
        f"{WARM_UP} renders discarded."
    )
    print()
    print(
        "| document | renders | median ms | p95 ms | CPU median ms | ratio to bare (median) "
        "| PDF KB | RSS before → peak MB | Python peak per render MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, result in results.items():
        times = result["times"]
        median, p95 = statistics.median(times), percentile(times, 0.95)
        cpu = statistics.median(result["cpu_times"])
        print(
            f"| {label} | {len(times)} | {median * 1000:.0f} | {p95 * 1000:.0f} "
            f"| {cpu * 1000:.0f} | {median / bare:.1f}x | {result['bytes'] / 1024:.0f} "
            f"| {result['rss_before']:.0f} → {result['rss_peak']:.0f} "
            f"| {result['py_peak']:.1f} |"
        )
    print()
    print(
        f"Throughput, 5-line note, {cores} processes × {THROUGHPUT_SECONDS:.0f} s: "
        f"{total} PDFs in {elapsed:.1f} s = **{total / elapsed:.1f} PDFs/s** "
        f"({total / elapsed / cores:.1f} per process); "
        f"{len(digests)} distinct SHA-256 across all renders (1 = reproducible)."
    )
    p95_small = percentile(results["5 lines"]["times"], 0.95)
    verdict = "met" if p95_small < 1.0 else "NOT met"
    print()
    print(f"Bar: 5-line note under 1 s at p95: {verdict} ({p95_small * 1000:.0f} ms).")
    median_long = statistics.median(results["100 lines"]["times"])
    verdict = "met" if median_long <= 0.4 else "NOT met"
    print(f"Bar: 100-line note at most 400 ms (median): {verdict} ({median_long * 1000:.0f} ms).")


if __name__ == "__main__":
    main()
