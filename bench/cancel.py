"""Benchmark of the cancel transaction (not a test). Run: ``make bench``.

Seeds invoices of 5 lines on a dedicated PostgreSQL database and measures, side by side
in one run (alternating invoice by invoice so both see the same machine state):
  (a) ``invoice_cancel``'s transaction (its after-commit enqueue of the PDF task to
      Redis is timed separately: the baseline does the SQL work only), and
  (b) a hand-written psycopg2 baseline doing the same SQL work in one transaction each
      (lock + read the invoice, read what is left of its lines, update it, insert the note
      and its lines, ledger entry, audit event, credit-limit check, then the number, then
      the two webhook outbox rows: the service's statements, rows and columns);
  (c) ``invoice_cancel`` without the webhook outbox (its in-transaction subscriber
      removed, the books' journal entry kept), so (a) - (c) is what the outbox adds to one
      cancel (its two event rows);
then the statements per cancel for 1 and 50 lines, and the throughput of the service with
4 concurrent workers over a bulk of distinct invoices. Ends with ``reconcile``.

The baseline writes no journal entry and no balance row, so it runs on a copy of the seeded
database (``<name>_baseline``, made from it as a template): ``reconcile`` then reads only
what the service wrote.
"""

import argparse
import functools
import json
import statistics
import threading
import time
import uuid
from decimal import Decimal

from _setup import LINES, django_on_bench_database, make_location, percentile, seed

django_on_bench_database("coworking_bench")

import psycopg2  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.celery import app as celery_app  # noqa: E402
from coworking import events  # noqa: E402
from coworking.einvoice import parties  # noqa: E402
from coworking.models import Customer, Location  # noqa: E402
from coworking.money import round_amount  # noqa: E402
from coworking.numbering import DocumentType, format_number, sequence_name  # noqa: E402
from coworking.queue import enqueue  # noqa: E402
from credits.models import CreditNote  # noqa: E402
from credits.reconciliation import reconcile  # noqa: E402
from credits.services import CREDIT_LIMIT_TRIGGER, invoice_cancel  # noqa: E402
from credits.tasks import render_credit_note_pdf  # noqa: E402
from webhooks import outbox  # noqa: E402
from webhooks.models import Event  # noqa: E402
from webhooks.payloads import render_body  # noqa: E402
from webhooks.tasks import dispatch_event  # noqa: E402

ZERO = Decimal("0.00")


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
    """The same SQL work as the service, written by hand with psycopg2: the same statements
    in the same order (the number last), the same rows and columns. It cancels invoices that
    no free-amount credit note has touched (the bench's), with everything left on the
    account's default allocation (what is due first, the rest account credit)."""
    now = timezone.now()
    today = timezone.localdate()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT i.state, i.location_id, i.customer_id, i.number, i.issue_date, i.currency, "
            "i.tax_total, i.total, i.amount_paid, i.amount_credited, i.buyer_reference, "
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
            invoice_tax,
            total,
            paid,
            credited_before,
            buyer_reference,
            vat_currency,
            rate,
            prefix,
        ) = cur.fetchone()
        assert state not in ("draft", "cancelled")
        # What is left of each line (credit-note lines point at the line they credit) ...
        cur.execute(
            "SELECT l.id, l.position, l.description, l.quantity + COALESCE(SUM(c.quantity), 0), "
            "l.unit_price, l.tax_rate, l.net + COALESCE(SUM(c.net), 0), "
            "l.tax + COALESCE(SUM(c.tax), 0), l.vat_category, l.vat_exemption_reason, "
            "l.vat_exemption_reason_code, l.period_start, l.period_end "
            "FROM invoicing_invoiceline l "
            "LEFT JOIN credits_creditnoteline c ON c.invoice_line_id = l.id "
            "WHERE l.invoice_id = %s GROUP BY l.id ORDER BY l.position",
            [invoice_id],
        )
        parts = [row for row in cur.fetchall() if row[3] > 0]
        # ... and the free amounts credited per tax rate (none on the bench's invoices).
        cur.execute(
            "SELECT c.tax_rate, SUM(c.net), SUM(c.tax) FROM credits_creditnoteline c "
            "JOIN credits_creditnote n ON n.id = c.credit_note_id "
            "WHERE n.invoice_id = %s AND c.invoice_line_id IS NULL GROUP BY 1",
            [invoice_id],
        )
        assert not cur.fetchall(), "the baseline does not cancel after free-amount credits"
        net = sum(part[6] for part in parts)
        tax = sum(part[7] for part in parts)
        credited = net + tax
        assert parts and credited_before + credited == total  # cancels the invoice
        off_due = min(credited, max(total - paid - credited_before, ZERO))
        cur.execute(
            "UPDATE invoicing_invoice SET state = 'cancelled', amount_credited_currency = %s, "
            "amount_credited = %s, cancelled_at = %s, cancelled_by_id = NULL, "
            "cancellation_channel = 'cli', cancellation_reason = '' WHERE id = %s",
            [currency, credited_before + credited, now, invoice_id],
        )
        cur.execute(
            "INSERT INTO coworking_ledgerentry (customer_id, kind, amount_currency, amount, "
            "description, document_number, document_date, created_at) "
            "VALUES (%s, 'credit_note', %s, %s, %s, %s, %s, %s) RETURNING id",
            [
                customer_id,
                currency,
                -credited,
                f"Credit note cancelling {number}",
                number,
                today,
                timezone.now(),
            ],
        )
        entry_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO credits_creditnote (currency, net_total_currency, net_total, "
            "tax_total_currency, tax_total, total_currency, total, seller, buyer, pdf_status, "
            "pdf_file, pdf_sha256, pdf_size, pdf_error, pdf_rendered_at, vat_currency, "
            "vat_exchange_rate, tax_total_vat_currency, location_id, customer_id, invoice_id, "
            "invoice_number, invoice_issue_date, sequence_number, number, issue_date, reason, "
            "reason_code, cancels_invoice, amount_off_due_currency, amount_off_due, "
            "account_credit_amount_currency, account_credit_amount, refund_amount_currency, "
            "refund_amount, settled_outside_amount_currency, settled_outside_amount, "
            "created_by_id, channel, created_at, buyer_reference, emailed_at, vat_rounding, ledger_entry_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'pending', '', '', NULL, '', NULL, "
            "%s, %s, %s, %s, %s, %s, %s, %s, NULL, '', %s, '', 'other', true, %s, %s, %s, %s, "
            "%s, 0, %s, 0, NULL, 'cli', DEFAULT, %s, NULL, 'document', %s) RETURNING id",
            [
                *(currency, currency, -net, currency, -tax, currency, -credited),
                *_party_snapshots(location_id=location_id, customer_id=customer_id),
                vat_currency,
                rate,
                None if rate is None else -round_amount(invoice_tax * rate),
                *(location_id, customer_id, invoice_id, number, issue_date, today),
                *(currency, off_due, currency, credited - off_due, currency, currency),
                buyer_reference,
                entry_id,
            ],
        )
        note_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO credits_creditnoteline (position, description, quantity, "
            "unit_price_currency, unit_price, tax_rate, net_currency, net, tax_currency, tax, "
            "vat_category, vat_exemption_reason, vat_exemption_reason_code, period_start, "
            "period_end, credit_note_id, invoice_line_id) "
            "SELECT position, description, -quantity, %s, unit_price, tax_rate, %s, -net, %s, "
            "-tax, vat_category, vat_exemption_reason, vat_exemption_reason_code, "
            "period_start, period_end, %s, invoice_line_id "
            "FROM UNNEST(%s::bigint[], %s::varchar[], %s::numeric[], %s::numeric[], "
            "%s::numeric[], %s::numeric[], %s::numeric[], %s::varchar[], %s::varchar[], "
            "%s::varchar[], %s::date[], %s::date[]) WITH ORDINALITY AS p(invoice_line_id, "
            "description, quantity, unit_price, tax_rate, net, tax, vat_category, "
            "vat_exemption_reason, vat_exemption_reason_code, period_start, period_end, "
            "position)",
            [
                currency,
                currency,
                currency,
                note_id,
                *(list(column) for i, column in enumerate(zip(*parts, strict=True)) if i != 1),
            ],
        )
        cur.execute(
            "INSERT INTO credits_cancellationevent (invoice_id, credit_note_id, actor_id, channel, "
            "reason, previous_state, amount_paid_currency, amount_paid, started_at, created_at) "
            "VALUES (%s, %s, NULL, 'cli', '', %s, %s, %s, %s, %s)",
            [invoice_id, note_id, state, currency, paid, now, timezone.now()],
        )
        # The credit limits checked before the number is taken, as the service does.
        cur.execute(
            f"SET CONSTRAINTS {CREDIT_LIMIT_TRIGGER} IMMEDIATE; "
            f"SET CONSTRAINTS {CREDIT_LIMIT_TRIGGER} DEFERRED"
        )
        cur.execute(
            "INSERT INTO sequences_sequence (name, last) VALUES (%s, 1) ON CONFLICT (name) "
            "DO UPDATE SET last = sequences_sequence.last + 1 RETURNING last",
            [sequence_name(location_id=location_id, document_type=DocumentType.CREDIT_NOTE)],
        )
        seq = cur.fetchone()[0]
        cur.execute(
            "UPDATE credits_creditnote SET sequence_number = %s, number = %s WHERE id = %s",
            [seq, format_number(prefix=prefix, year=today.year, number=seq), note_id],
        )
        # The webhook outbox's two rows, each numbered on the invoice's event stream.
        for event_type, object_type, object_id in (
            ("invoice.cancelled", "invoice", invoice_id),
            ("credit_note.issued", "credit_note", note_id),
        ):
            cur.execute(
                "WITH stream AS (INSERT INTO webhooks_eventstream (invoice_id, last_sequence) "
                "VALUES (%s, 1) ON CONFLICT (invoice_id) DO UPDATE SET last_sequence = "
                "webhooks_eventstream.last_sequence + 1 RETURNING last_sequence) "
                "INSERT INTO webhooks_event (id, type, invoice_id, object_type, object_id, "
                "created_at, sequence, body, api_version) "
                "SELECT %s, %s, %s, %s, %s, %s, last_sequence, '', '' FROM stream",
                [
                    invoice_id,
                    str(uuid.uuid4()),
                    event_type,
                    invoice_id,
                    object_type,
                    object_id,
                    timezone.now(),
                ],
            )
    conn.commit()


def _baseline_copy() -> dict:
    """A copy of the seeded database for the baseline, made with it as template (the
    template must have no other session: Django's are closed first); its connection
    parameters."""
    connections.close_all()
    db = settings.DATABASES["default"]
    params = {"user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    name = f"{db['NAME']}_baseline"
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{db["NAME"]}"')
    admin.close()
    return {"dbname": name, **params}


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
    without_outbox = {
        event_type: [h for h in handlers if not h[0].__module__.startswith("webhooks.")]
        for event_type, handlers in in_transaction.items()
    }
    queue_dispatch, outbox.queue_dispatch = outbox.queue_dispatch, lambda **kwargs: True
    service_ids = seed(service_customer, n)
    baseline_ids = seed(baseline_customer, n)
    bare_ids = seed(bare_customer, n)
    bulk_ids = seed(bulk_customer, n)
    print(f"seeded {4 * n} invoices of {LINES} lines in {time.perf_counter() - t0:.1f}s")

    # (a) the service with the outbox, (b) the baseline on its copy of the database, (c) the
    # service without the outbox, alternating invoice by invoice.
    raw = psycopg2.connect(**_baseline_copy())
    service_times, baseline_times, bare_times = [], [], []
    for service_id, baseline_id, bare_id in zip(service_ids, baseline_ids, bare_ids, strict=True):
        start = time.perf_counter()
        invoice_cancel(invoice=service_id, actor=None, channel="cli")
        service_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        baseline_cancel(raw, baseline_id)
        baseline_times.append(time.perf_counter() - start)
        events._subscribers.clear()
        events._subscribers.update(without_outbox)
        start = time.perf_counter()
        invoice_cancel(invoice=bare_id, actor=None, channel="cli")
        bare_times.append(time.perf_counter() - start)
        events._subscribers.clear()
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
        # The connection's query log holds 9,000 statements and may be full (with DEBUG on
        # the whole run logs): emptied first, the capture sees this cancel's alone.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            invoice_cancel(invoice=invoice_id, actor=None, channel="cli")
        counts[lines] = len(queries)
        assert counts[lines], "no statement captured"
    print(
        f"\nSQL statements per cancel: {counts[1]} for 1 line, {counts[50]} for 50 lines "
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
    breaches = {k: f"{len(v)}, e.g. {v[0]}" for k, v in reconcile().items() if v}
    print(
        f"\nreconcile after the run (the service's documents): {breaches or 'clean'} "
        f"({time.perf_counter() - t0:.2f}s)"
    )


if __name__ == "__main__":
    main()
