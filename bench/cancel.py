"""Benchmark of the cancel transaction (not a test). Run: ``make bench``.

Seeds invoices of 5 lines on a dedicated PostgreSQL database and measures, side by side
in one run (alternating invoice by invoice so both see the same machine state):
  (a) ``invoice_cancel``'s transaction (its after-commit enqueue of the PDF task to
      Redis is timed separately: the baseline does the SQL work only), and
  (b) a hand-written psycopg2 baseline doing the same SQL work in one transaction each
      (lock + read the invoice, update it, bump the counter, insert the note, mirror the
      lines with INSERT ... SELECT, ledger entry, audit event);
then the queries per cancel for 1 and 50 lines, and the throughput of the service with
4 concurrent workers over a bulk of distinct invoices. Ends with ``reconcile``.
"""

import argparse
import statistics
import threading
import time
from decimal import Decimal

from _setup import django_on_bench_database, percentile

django_on_bench_database("coworking_bench")

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from djmoney.money import Money  # noqa: E402

from coworking import events  # noqa: E402
from coworking.celery import app as celery_app  # noqa: E402
from coworking.celery import enqueue  # noqa: E402
from coworking.models import Customer, Location  # noqa: E402
from coworking.money import round_amount  # noqa: E402
from coworking.numbering import DocumentType, format_number, sequence_name  # noqa: E402
from credits.models import CreditNote  # noqa: E402
from credits.reconciliation import reconcile  # noqa: E402
from credits.services import invoice_cancel  # noqa: E402
from credits.tasks import render_credit_note_pdf  # noqa: E402
from invoicing.services import LineInput, invoice_create_draft, invoice_issue  # noqa: E402

LINES = 5


def make_location(prefix: str) -> Customer:
    location = Location.objects.create(
        name=f"Bench {prefix}",
        legal_name=f"Bench {prefix} B.V.",
        street_line1="Bench street 1",
        postcode="1015 BS",
        city="Amsterdam",
        country="NL",
        tax_id=f"NL{prefix}",
        default_currency="EUR",
        vat_currency="EUR",
        default_tax_rate=Decimal("21"),
        invoice_prefix=prefix,
        credit_note_prefix=f"{prefix}CN",
    )
    return Customer.objects.create(
        location=location,
        billing_name=f"Bench customer {prefix}",
        billing_email="b@example.com",
        country="NL",
    )


def seed(customer: Customer, n: int, lines: int = LINES) -> list[int]:
    specs = [
        LineInput(
            description=f"Line {i}",
            quantity=Decimal("1.5"),
            unit_price=Money(Decimal("19.99") + i, "EUR"),
            tax_rate=Decimal("21") if i % 2 else Decimal("9"),
        )
        for i in range(lines)
    ]
    return [
        invoice_issue(invoice=invoice_create_draft(customer=customer, lines=specs)).pk
        for _ in range(n)
    ]


def baseline_cancel(conn, invoice_id: int) -> None:
    """The same SQL work as the service, written by hand with psycopg2."""
    now = timezone.now()
    today = timezone.localdate()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT i.state, i.location_id, i.customer_id, i.number, i.issue_date, i.currency, "
            "i.net_total, i.tax_total, i.total, i.amount_paid, i.buyer_reference, "
            "i.vat_currency, i.vat_exchange_rate, l.credit_note_prefix "
            "FROM invoicing_invoice i JOIN coworking_location l ON l.id = i.location_id "
            "WHERE i.id = %s FOR UPDATE OF i",
            [invoice_id],
        )
        (
            state,
            location_id,
            customer_id,
            number,
            issue_date,
            currency,
            net,
            tax,
            total,
            paid,
            buyer_reference,
            vat_currency,
            rate,
            prefix,
        ) = cur.fetchone()
        assert state not in ("draft", "cancelled")
        cur.execute(
            "UPDATE invoicing_invoice SET state = 'cancelled', cancelled_at = %s, "
            "cancelled_by_id = NULL, cancellation_channel = 'cli', cancellation_reason = '' "
            "WHERE id = %s",
            [now, invoice_id],
        )
        cur.execute(
            "INSERT INTO sequences_sequence (name, last) VALUES (%s, 1) ON CONFLICT (name) "
            "DO UPDATE SET last = sequences_sequence.last + 1 RETURNING last",
            [sequence_name(location_id=location_id, document_type=DocumentType.CREDIT_NOTE)],
        )
        seq = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO credits_creditnote (location_id, customer_id, invoice_id, invoice_number, "
            "invoice_issue_date, sequence_number, number, issue_date, currency, net_total, "
            "net_total_currency, tax_total, tax_total_currency, total, total_currency, reason, "
            "created_by_id, channel, created_at, pdf_status, pdf_file, pdf_sha256, pdf_error, "
            "buyer_reference, vat_currency, vat_exchange_rate, tax_total_vat_currency) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'',NULL,'cli',%s,'pending','','',"
            "'',%s,%s,%s,%s) "
            "RETURNING id",
            [
                location_id,
                customer_id,
                invoice_id,
                number,
                issue_date,
                seq,
                format_number(prefix=prefix, year=today.year, number=seq),
                today,
                currency,
                -net,
                currency,
                -tax,
                currency,
                -total,
                currency,
                now,
                buyer_reference,
                vat_currency,
                rate,
                None if rate is None else -round_amount(tax * rate),
            ],
        )
        note_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO credits_creditnoteline (credit_note_id, position, description, "
            "unit_price, unit_price_currency, tax_rate, quantity, net, tax, net_currency, "
            "tax_currency, vat_category, vat_exemption_reason, vat_exemption_reason_code, "
            "period_start, period_end) SELECT %s, position, description, unit_price, "
            "unit_price_currency, tax_rate, -quantity, -net, -tax, net_currency, tax_currency, "
            "vat_category, vat_exemption_reason, vat_exemption_reason_code, period_start, "
            "period_end "
            "FROM invoicing_invoiceline WHERE invoice_id = %s",
            [note_id, invoice_id],
        )
        cur.execute(
            "INSERT INTO coworking_ledgerentry (customer_id, kind, amount, amount_currency, "
            "description, invoice_id, payment_id, credit_note_id, created_at) "
            "VALUES (%s, 'credit_note', %s, %s, %s, %s, NULL, %s, %s)",
            [
                customer_id,
                -total,
                currency,
                f"Credit note {seq} cancelling {number}",
                invoice_id,
                note_id,
                now,
            ],
        )
        cur.execute(
            "INSERT INTO credits_cancellationevent (invoice_id, credit_note_id, actor_id, channel, "
            "reason, previous_state, amount_paid, amount_paid_currency, started_at, created_at) "
            "VALUES (%s, %s, NULL, 'cli', '', %s, %s, %s, %s, %s)",
            [invoice_id, note_id, state, paid, currency, now, now],
        )
    conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=1000, help="invoices per measured series")
    args = parser.parse_args()
    n = args.n

    t0 = time.perf_counter()
    service_customer, baseline_customer, bulk_customer = (
        make_location("SVC"),
        make_location("RAW"),
        make_location("BLK"),
    )
    service_ids = seed(service_customer, n)
    baseline_ids = seed(baseline_customer, n)
    bulk_ids = seed(bulk_customer, n)
    print(f"seeded {3 * n} invoices of {LINES} lines in {time.perf_counter() - t0:.1f}s")

    # (a) is the cancel transaction: the after-commit enqueue of the PDF task (a subscriber
    # of credit_note.issued) is timed on its own below, since the baseline does the SQL
    # work only.
    after_commit = events._subscribers[events.EventType.CREDIT_NOTE_ISSUED]
    events._subscribers[events.EventType.CREDIT_NOTE_ISSUED] = []
    db = settings.DATABASES["default"]
    raw = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    service_times, baseline_times = [], []
    for service_id, baseline_id in zip(service_ids, baseline_ids, strict=True):
        start = time.perf_counter()
        invoice_cancel(invoice=service_id, actor=None, channel="cli")
        service_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        baseline_cancel(raw, baseline_id)
        baseline_times.append(time.perf_counter() - start)
    raw.close()
    events._subscribers[events.EventType.CREDIT_NOTE_ISSUED] = after_commit
    enqueue_times = []
    for note_id in CreditNote.objects.filter(invoice_id__in=service_ids[:200]).values_list(
        "pk", flat=True
    ):
        start = time.perf_counter()
        enqueue(render_credit_note_pdf, note_id)
        enqueue_times.append(time.perf_counter() - start)
    celery_app.control.purge()

    def row(label, times):
        ms = [t * 1000 for t in times]
        return (
            f"  {label:<22} median {statistics.median(ms):6.2f} ms   "
            f"p95 {percentile(ms, 0.95):6.2f} ms   mean {statistics.mean(ms):6.2f} ms"
        )

    ratio_median = statistics.median(service_times) / statistics.median(baseline_times)
    ratio_p95 = percentile(service_times, 0.95) / percentile(baseline_times, 0.95)
    print(f"\nper-invoice cancel time, {n} invoices of {LINES} lines, one transaction each:")
    print(row("service transaction", service_times))
    print(row("psycopg2 baseline", baseline_times))
    print(row("after-commit enqueue", enqueue_times) + "  (Celery publish to Redis)")
    print(
        f"  ratio service/baseline: median {ratio_median:.2f}x, p95 {ratio_p95:.2f}x "
        f"(bar: <= 2.0) -> {'OK' if ratio_median <= 2.0 else 'OVER'}"
    )

    counts = {}
    for lines in (1, 50):
        (invoice_id,) = seed(service_customer, 1, lines=lines)
        with CaptureQueriesContext(connection) as queries:
            invoice_cancel(invoice=invoice_id, actor=None, channel="cli")
        counts[lines] = len(queries)
    print(
        f"\nSQL queries per cancel: {counts[1]} for 1 line, {counts[50]} for 50 lines "
        f"-> {'constant' if counts[1] == counts[50] else 'NOT constant'}"
    )

    connections.close_all()
    workers = 4
    chunks = [bulk_ids[i::workers] for i in range(workers)]

    def work(chunk):
        try:
            for invoice_id in chunk:
                invoice_cancel(invoice=invoice_id, actor=None, channel="admin_bulk")
        finally:
            connections.close_all()

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    print(
        f"\nbulk: {n} cancels of one location with {workers} concurrent workers in "
        f"{elapsed:.2f}s -> {n / elapsed:.0f} cancels/s"
    )
    print(f"  (the same number sequentially, from (a): {sum(service_times):.2f}s)")

    t0 = time.perf_counter()
    breaches = {k: v for k, v in reconcile().items() if v}
    print(f"\nreconcile after the run: {breaches or 'clean'} ({time.perf_counter() - t0:.2f}s)")


if __name__ == "__main__":
    main()
