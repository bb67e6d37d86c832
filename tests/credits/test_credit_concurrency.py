"""Partial credit notes, refunds and credit applied under real concurrency on PostgreSQL:
the invoice lock, the customer lock and the number series hold under threads."""

from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from djmoney.money import Money

from coworking.numbering import DocumentType, last_number
from credits.models import CreditNote, Refund
from credits.reconciliation import reconcile
from credits.services import LineCredit, credit_note_issue, invoice_cancel, refund_record
from invoicing.models import Channel, Invoice, Payment
from invoicing.selectors import available_credit
from invoicing.services import payment_record
from tests.concurrency import run_in_threads
from tests.factories import CustomerFactory, issued_invoice

# Each test runs straight to PostgreSQL and through PgBouncer in transaction mode.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("database_route")]


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def assert_reconciled():
    assert {name: found for name, found in reconcile().items() if found} == {}
    call_command("reconcile")  # the command agrees (raises CommandError otherwise)


def outcomes(results) -> Counter:
    return Counter(getattr(r, "code", type(r).__name__) for r in results)


def test_20_threads_crediting_one_unit_of_a_5_unit_line_make_exactly_5_notes():
    invoice = issued_invoice(specs=[("Day pass", "5", "25.00", "21")])
    line_id = invoice.lines.get().pk

    results = run_in_threads(
        [
            lambda: credit_note_issue(
                invoice=invoice.pk,
                lines=[LineCredit(line_id, Decimal("1"))],
                actor=None,
                channel=Channel.API,
            )
        ]
        * 20,
        threads=20,
    )

    assert outcomes(results) == {"CreditNote": 5, "nothing_left_to_credit": 15}
    numbers = sorted(CreditNote.objects.values_list("sequence_number", flat=True))
    assert numbers == [1, 2, 3, 4, 5]
    location_id = invoice.location_id
    assert last_number(location_id=location_id, document_type=DocumentType.CREDIT_NOTE) == 5
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED
    assert invoice.amount_credited == invoice.total
    assert sum(1 for r in results if isinstance(r, CreditNote) and r.cancels_invoice) == 1
    assert_reconciled()


def test_partial_credits_racing_a_cancel_never_credit_more_than_the_invoice():
    invoice = issued_invoice(specs=[("Day pass", "5", "25.00", "21"), ("Desk", "1", "300", "9")])
    line_id = invoice.lines.get(position=1).pk
    partial = [
        lambda: credit_note_issue(
            invoice=invoice.pk,
            lines=[LineCredit(line_id, Decimal("2"))],
            actor=None,
            channel=Channel.API,
        )
    ] * 6
    cancel = [lambda: invoice_cancel(invoice=invoice.pk, actor=None, channel=Channel.API)] * 2

    results = run_in_threads(partial + cancel, threads=8)

    found = outcomes(results)
    assert found["CreditNote"] >= 1
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED
    notes = CreditNote.objects.filter(invoice=invoice)
    assert -sum(note.total.amount for note in notes) == invoice.total.amount
    assert notes.filter(cancels_invoice=True).count() == 1
    assert_reconciled()


def test_two_refunds_of_the_same_credit_at_once_refund_it_once():
    customer = CustomerFactory()
    paid = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")], paid="all")
    invoice_cancel(invoice=paid, actor=None, channel=Channel.CLI)
    assert available_credit(customer=customer, currency="EUR") == eur("100.00")

    results = run_in_threads(
        [
            lambda: refund_record(
                customer=customer.pk, amount=eur("80.00"), actor=None, channel=Channel.ADMIN
            )
        ]
        * 4,
        threads=4,
    )

    assert outcomes(results) == {"Refund": 1, "refund_exceeds_available_credit": 3}
    assert Refund.objects.count() == 1
    assert available_credit(customer=customer, currency="EUR") == eur("20.00")
    assert_reconciled()


def test_two_staff_applying_the_same_credit_to_two_invoices_spend_it_once():
    customer = CustomerFactory()
    # Two invoices left open (issued while the customer held no credit), then 50.00 of
    # credit: a paid invoice cancelled.
    open_invoices = [
        issued_invoice(customer=customer, specs=[("Desk", "1", "40.00", "0")]) for _ in range(2)
    ]
    paid = issued_invoice(customer=customer, specs=[("Desk", "1", "50.00", "0")], paid="all")
    invoice_cancel(invoice=paid, actor=None, channel=Channel.CLI)
    assert available_credit(customer=customer, currency="EUR") == eur("50.00")

    results = run_in_threads(
        [
            lambda invoice=invoice: payment_record(
                invoice=invoice, amount=eur("40.00"), method=Payment.Method.ACCOUNT_CREDIT
            )
            for invoice in open_invoices
        ],
        threads=2,
    )

    assert outcomes(results) == {"Payment": 1, "payment_exceeds_available_credit": 1}
    assert available_credit(customer=customer, currency="EUR") == eur("10.00")
    states = sorted(
        Invoice.objects.filter(pk__in=[i.pk for i in open_invoices]).values_list("state", flat=True)
    )
    assert states == [Invoice.State.ISSUED, Invoice.State.PAID]
    assert_reconciled()
