"""The cancel operation: what it writes, what it refuses, and that it runs constant SQL."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from coworking.models import LedgerEntry
from coworking.selectors import customer_balance
from credits.errors import InvalidCancellation, InvoiceAlreadyCancelled, InvoiceIsDraft
from credits.models import CancellationEvent, CreditNote, CreditNoteLine
from credits.reconciliation import reconcile
from credits.services import invoice_cancel
from invoicing.calculations import totals_by_rate
from invoicing.errors import InvoiceNotFound
from invoicing.models import Channel, Invoice, Payment
from invoicing.selectors import available_credit
from tests.factories import CustomerFactory, draft_invoice, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

SPECS = (
    ("Dedicated desk, May", "1", "320.00", "21"),
    ("Meeting room (hours)", "3", "35.00", "9"),
    ("Printing", "3", "0.125", "21"),
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def snapshot():
    return {
        model.__name__: model.objects.count()
        for model in (CreditNote, CreditNoteLine, LedgerEntry, CancellationEvent, Payment)
    }


def test_cancel_issues_a_mirrored_credit_note_and_credits_the_ledger():
    customer = CustomerFactory(location__credit_note_prefix="CN")
    invoice = issued_invoice(customer=customer, specs=SPECS)
    staff = staff_user()

    note = invoice_cancel(invoice=invoice, actor=staff, reason=" Double booking ", channel="admin")

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED
    assert (invoice.cancelled_by, invoice.cancellation_channel) == (staff, "admin")
    assert invoice.cancellation_reason == "Double booking"
    assert note.number == f"CN-{note.issue_date.year}-000001"
    assert (note.invoice_number, note.invoice_issue_date) == (invoice.number, invoice.issue_date)
    assert note.currency == "EUR" and note.total == -invoice.total
    assert (note.net_total, note.tax_total) == (-invoice.net_total, -invoice.tax_total)
    assert note.pdf_status == CreditNote.PdfStatus.PENDING

    mirrored = [
        (ln.description, -ln.quantity, ln.unit_price, ln.tax_rate, -ln.net, -ln.tax)
        for ln in note.lines.all()
    ]
    original = [
        (ln.description, ln.quantity, ln.unit_price, ln.tax_rate, ln.net, ln.tax)
        for ln in invoice.lines.all()
    ]
    assert mirrored == original
    per_rate_note = totals_by_rate(
        (ln.tax_rate, -ln.net.amount, -ln.tax.amount) for ln in note.lines.all()
    )
    per_rate_invoice = totals_by_rate(
        (ln.tax_rate, ln.net.amount, ln.tax.amount) for ln in invoice.lines.all()
    )
    assert per_rate_note == per_rate_invoice

    entry = LedgerEntry.objects.get(credit_note=note)
    assert (entry.kind, entry.amount) == (LedgerEntry.Kind.CREDIT_NOTE, -invoice.total)
    assert customer_balance(customer=customer) == {"EUR": eur("0.00")}
    event = CancellationEvent.objects.get(invoice=invoice)
    assert (event.credit_note, event.actor, event.channel) == (note, staff, "admin")
    assert event.previous_state == "issued" and event.reason == "Double booking"
    assert all(not breaches for breaches in reconcile().values())


def test_cancelling_a_paid_invoice_leaves_the_payment_as_account_credit():
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "21")], paid="all")

    invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)

    assert customer_balance(customer=customer) == {"EUR": eur("-121.00")}
    assert available_credit(customer=customer, currency="EUR") == eur("121.00")
    assert Payment.objects.filter(invoice=invoice).count() == 1  # nothing is refunded


def test_account_credit_is_applied_to_the_next_invoice_in_that_currency():
    customer = CustomerFactory()
    paid = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")], paid="60.00")
    invoice_cancel(invoice=paid, actor=None, channel=Channel.CLI)
    other_currency = issued_invoice(
        customer=customer, specs=[("Desk", "1", "50.00", "0")], currency="GBP"
    )
    assert other_currency.amount_due == Money("50.00", "GBP")  # EUR credit never pays GBP

    small = issued_invoice(customer=customer, specs=[("Day pass", "1", "25.00", "0")])
    assert (small.state, small.amount_due) == (Invoice.State.PAID, eur("0.00"))
    large = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")])
    assert (large.state, large.amount_due) == (Invoice.State.PARTIALLY_PAID, eur("65.00"))
    assert available_credit(customer=customer, currency="EUR") == eur("0.00")
    # The balance is unchanged by applying credit: 100 - 60 - 100 + 25 + 100 = 65 owed.
    assert customer_balance(customer=customer)["EUR"] == eur("65.00")
    applied = Payment.objects.filter(method=Payment.Method.ACCOUNT_CREDIT).values_list(
        "amount", flat=True
    )
    assert sorted(applied) == [Decimal("25.00"), Decimal("35.00")]
    assert all(not breaches for breaches in reconcile().values())


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: draft_invoice(), InvoiceIsDraft),
        (lambda: _cancelled(), InvoiceAlreadyCancelled),
    ],
)
def test_refusals_change_nothing(make, error):
    invoice = make()
    before, state_before = snapshot(), Invoice.objects.values().get(pk=invoice.pk)
    with pytest.raises(error) as raised:
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.ADMIN)
    assert raised.value.code in {"invoice_is_draft", "invoice_already_cancelled"}
    assert snapshot() == before
    assert Invoice.objects.values().get(pk=invoice.pk) == state_before


def _cancelled():
    invoice = issued_invoice()
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.ADMIN)
    return invoice


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"reason": "x" * 1001}, InvalidCancellation),
        ({"channel": "fax"}, InvalidCancellation),
        ({"invoice": 987654321}, InvoiceNotFound),
        ({"invoice": "abc"}, InvoiceNotFound),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(kwargs, error):
    invoice = issued_invoice()
    before = snapshot()
    arguments = {"invoice": invoice, "actor": None, "reason": "", "channel": "api"} | kwargs
    with pytest.raises(error):
        invoice_cancel(**arguments)
    assert snapshot() == before
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED


def test_query_count_is_the_same_for_1_and_50_lines():
    customer = CustomerFactory()
    one = issued_invoice(customer=customer, specs=[("Desk", "1", "10.00", "21")])
    fifty = issued_invoice(
        customer=customer,
        specs=[(f"Line {i}", "1", "10.00", "21" if i % 2 else "9") for i in range(50)],
    )
    counts = []
    for invoice in (one, fifty):
        with CaptureQueriesContext(connection) as queries:
            invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Savepoint, lock, the lines and free amounts left, invoice, note, lines, ledger and the
    # customer's balance row, event, the credit-limit check, counter, number, release (14),
    # plus the webhook outbox: one
    # INSERT per event (invoice.cancelled, credit_note.issued), plus the journal entry: the
    # closed-period check, the chart, the journal counter, the entry and its lines (5), plus
    # the invoice's discounts on the whole invoice (credited with it) (1). The books read
    # the note's lines and discounts from what the service wrote, not from the database.
    assert counts[0] == 22


def test_only_writes_follow_the_credit_note_number_until_commit():
    """The location's counter row is locked from the number to the commit: the journal
    entry is worked out before it, so only the numbered writes run under the lock."""
    invoice = issued_invoice(specs=[("Desk", "1", "10.00", "21"), ("Room", "2", "5.00", "9")])
    with CaptureQueriesContext(connection) as queries:
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    sqls = [" ".join(query["sql"].split()) for query in queries.captured_queries]
    number = next(
        index
        for index, sql in enumerate(sqls)
        if "sequences_sequence" in sql and "'credit_note:" in sql
    )
    locked = sqls[number + 1 :]
    expected = [
        "UPDATE credits_creditnote SET sequence_number",
        "WITH stream AS (INSERT INTO webhooks_eventstream",  # invoice.cancelled
        'INSERT INTO "sequences_sequence" (name, last) VALUES (\'journal-sales-',
        'INSERT INTO "books_journalentry"',
        'INSERT INTO "books_journalline"',
        "WITH stream AS (INSERT INTO webhooks_eventstream",  # credit_note.issued
        "RELEASE SAVEPOINT",
    ]
    assert len(locked) == len(expected), locked
    for sql, start in zip(locked, expected, strict=True):
        assert sql.startswith(start), (sql, start)
