"""Benchmark of the cancel transaction (not a test). Run: ``make bench``.

Seeds invoices of 5 lines on a dedicated PostgreSQL database and measures, side by side
in one run (alternating invoice by invoice so both see the same machine state):
  (a) ``invoice_cancel``'s transaction (its after-commit enqueue of the PDF task to
      Redis is timed separately: the baseline does the SQL work only), and
  (b) a hand-written psycopg2 baseline doing the same SQL work in one transaction each
      (lock + read the invoice, update it, bump the counter, insert the note, mirror the
      lines with INSERT ... SELECT, ledger entry, audit event);
  (c) ``invoice_cancel`` without the webhook outbox (its in-transaction subscriber
      removed), so (a) - (c) is what the outbox adds to one cancel (its two event rows);
then the queries per cancel for 1 and 50 lines, and the throughput of the service with
4 concurrent workers over a bulk of distinct invoices. Ends with ``reconcile``.
"""

import argparse
import functools
import json
import statistics
import threading
import time

from _setup import LINES, django_on_bench_database, make_location, percentile, seed

django_on_bench_database("coworking_bench")

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from coworking import events  # noqa: E402
from coworking.celery import app as celery_app  # noqa: E402
from coworking.celery import enqueue  # noqa: E402
from coworking.einvoice import parties  # noqa: E402
from coworking.models import Customer, Location  # noqa: E402
from coworking.money import round_amount  # noqa: E402
from coworking.numbering import DocumentType, format_number, sequence_name  # noqa: E402
from credits.models import CreditNote  # noqa: E402
from credits.reconciliation import reconcile  # noqa: E402
from credits.services import invoice_cancel  # noqa: E402
from credits.tasks import render_credit_note_pdf  # noqa: E402
from webhooks import outbox  # noqa: E402
from webhooks.models import Event  # noqa: E402
from webhooks.payloads import render_body  # noqa: E402
from webhooks.tasks import dispatch_event  # noqa: E402


@functools.cache
def _party_snapshots(*, location_id: int, customer_id: int) -> tuple[str, str]:
    """The seller and buyer JSON the credit note freezes (the service builds them from the
    rows its lock query joins; the baseline from the same rows, read once per party)."""
    location = Location.objects.get(pk=location_id)
    customer = Customer.objects.get(pk=customer_id)
    return (
        json.dumps(parties.snapshot(parties.seller(location))),
        json.dumps(parties.snapshot(parties.buyer(customer))),
    )


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
            "JOIN coworking_customer c ON c.id = i.customer_id "
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
            "buyer_reference, vat_currency, vat_exchange_rate, tax_total_vat_currency, seller, "
            "buyer) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,'',NULL,'cli',%s,'pending','','',"
            "'',%s,%s,%s,%s,%s,%s) "
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
                *_party_snapshots(location_id=location_id, customer_id=customer_id),
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
    service_customer, baseline_customer, bulk_customer, bare_customer = (
        make_location("SVC"),
        make_location("RAW"),
        make_location("BLK"),
        make_location("BARE"),
    )
    # After-commit work (queueing PDFs and webhook dispatches) is timed on its own below, since
    # the baseline does the SQL work only: the subscribers run in the transaction only, and the
    # outbox's after-commit hand-off to the broker does nothing.
    all_subscribers = dict(events._subscribers)
    events._subscribers.clear()
    for event_type, handlers in all_subscribers.items():
        events._subscribers[event_type] = [h for h in handlers if h[1]]  # in-transaction
    in_transaction = dict(events._subscribers)
    queue_dispatch, outbox.queue_dispatch = outbox.queue_dispatch, lambda **kwargs: True
    service_ids = seed(service_customer, n)
    baseline_ids = seed(baseline_customer, n)
    bare_ids = seed(bare_customer, n)
    bulk_ids = seed(bulk_customer, n)
    print(f"seeded {4 * n} invoices of {LINES} lines in {time.perf_counter() - t0:.1f}s")

    # (a) the service with the outbox, (b) the baseline, (c) the service without the outbox
    # (no subscriber at all), alternating invoice by invoice.
    db = settings.DATABASES["default"]
    raw = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    service_times, baseline_times, bare_times = [], [], []
    for service_id, baseline_id, bare_id in zip(service_ids, baseline_ids, bare_ids, strict=True):
        start = time.perf_counter()
        invoice_cancel(invoice=service_id, actor=None, channel="cli")
        service_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        baseline_cancel(raw, baseline_id)
        baseline_times.append(time.perf_counter() - start)
        events._subscribers.clear()
        start = time.perf_counter()
        invoice_cancel(invoice=bare_id, actor=None, channel="cli")
        bare_times.append(time.perf_counter() - start)
        events._subscribers.update(in_transaction)
    raw.close()
    events._subscribers.clear()
    events._subscribers.update(all_subscribers)
    outbox.queue_dispatch = queue_dispatch
    enqueue_times, dispatch_times, render_times = [], [], []
    for note_id in CreditNote.objects.filter(invoice_id__in=service_ids[:200]).values_list(
        "pk", flat=True
    ):
        start = time.perf_counter()
        enqueue(render_credit_note_pdf, note_id)
        enqueue_times.append(time.perf_counter() - start)
    for event in Event.objects.filter(invoice_id__in=service_ids[:200]).exclude(
        type=events.EventType.INVOICE_ISSUED
    ):
        start = time.perf_counter()
        enqueue(dispatch_event, str(event.pk))
        dispatch_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        render_body(event=event)
        render_times.append(time.perf_counter() - start)
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
    print(row("service, no outbox", bare_times))
    print(row("after-commit enqueue", enqueue_times) + "  (Celery publish to Redis, PDF)")
    print(row("webhook dispatch", dispatch_times) + "  (the same, per event; 2 per cancel)")
    print(
        f"  ratio service/baseline: median {ratio_median:.2f}x, p95 {ratio_p95:.2f}x "
        f"(bar: <= 2.0) -> {'OK' if ratio_median <= 2.0 else 'OVER'}"
    )
    added = statistics.median(service_times) - statistics.median(bare_times)
    share = added / statistics.median(bare_times)
    print(
        f"  webhook outbox (2 event rows) adds {added * 1000:.2f} ms to the median cancel = "
        f"{share:.1%} (target < 10%) -> {'OK' if share < 0.10 else 'OVER'}"
    )
    print(
        row("  (body render, each)", render_times)
        + "  (after commit; in the transaction it would add this twice)"
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
