"""Partial credit notes: what ``credit_note_issue`` writes, what it refuses, and how the
cancel after partial notes credits only what is left."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from coworking.models import LedgerEntry
from coworking.selectors import customer_balance
from credits.errors import (
    CreditExceedsLine,
    CreditExceedsRate,
    CreditLineNotOnInvoice,
    CreditNotAllowed,
    InvalidAllocation,
    InvalidCreditNote,
    NothingLeftToCredit,
    TaxRateNotOnInvoice,
)
from credits.models import CancellationEvent, CreditNote, CreditNoteLine, Refund
from credits.reconciliation import reconcile
from credits.selectors import invoice_creditable
from credits.services import (
    Allocation,
    AmountCredit,
    LineCredit,
    credit_note_issue,
    invoice_cancel,
)
from invoicing.calculations import totals_by_rate
from invoicing.errors import InvoiceIsDraft, InvoiceNotPayable
from invoicing.models import Channel, Invoice, Payment
from invoicing.selectors import available_credit
from invoicing.services import payment_record
from tests.factories import (
    CustomerFactory,
    UserFactory,
    draft_invoice,
    issued_invoice,
    portal_member,
    staff_user,
)

pytestmark = pytest.mark.django_db

SPECS = (
    ("Day pass", "5", "25.00", "21"),
    ("Meeting room (hours)", "3", "35.00", "9"),
    ("Printing", "3", "0.125", "21"),
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def line(invoice: Invoice, position: int):
    return invoice.lines.get(position=position)


def credit(invoice, *parts, amount=None, **kwargs) -> CreditNote:
    """``credit(invoice, (position, "2"), ...)`` through the service, as the system."""
    kwargs.setdefault("actor", None)
    kwargs.setdefault("channel", Channel.ADMIN)
    return credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(line(invoice, pos).pk, Decimal(qty)) for pos, qty in parts],
        amount=amount,
        **kwargs,
    )


def clean() -> bool:
    return all(not breaches for breaches in reconcile().values())


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (CreditNote, CreditNoteLine, LedgerEntry, CancellationEvent, Refund, Payment)
    }


def test_crediting_part_of_a_line_credits_that_part_and_reduces_the_amount_due():
    customer = CustomerFactory(location__credit_note_prefix="CN")
    invoice = issued_invoice(customer=customer, specs=SPECS)

    note = credit(invoice, (1, "2"), reason="Two passes unused", reason_code="service_not_used")

    invoice.refresh_from_db()
    assert note.number == f"CN-{note.issue_date.year}-000001" and note.sequence_number == 1
    assert (note.reason, note.reason_code, note.cancels_invoice) == (
        "Two passes unused",
        "service_not_used",
        False,
    )
    [credited] = note.lines.all()
    assert credited.invoice_line == line(invoice, 1)
    assert (credited.description, credited.quantity, credited.unit_price) == (
        "Day pass",
        Decimal("-2"),
        eur("25.00"),
    )
    assert (credited.net, credited.tax) == (eur("-50.00"), eur("-10.50"))
    assert note.total == eur("-60.50")
    assert (invoice.state, invoice.amount_credited) == (Invoice.State.ISSUED, eur("60.50"))
    assert invoice.amount_due == invoice.total - eur("60.50")
    assert (note.amount_off_due, note.account_credit_amount) == (eur("60.50"), eur("0"))
    assert LedgerEntry.objects.get(credit_note=note).amount == eur("-60.50")
    assert customer_balance(customer=customer) == {"EUR": invoice.amount_due}
    left = invoice_creditable(invoice=invoice).line(line(invoice, 1).pk)
    assert (left.remaining_quantity, left.remaining_net, left.remaining_tax) == (
        Decimal("3"),
        Decimal("75.00"),
        Decimal("15.75"),
    )
    assert not CancellationEvent.objects.exists()
    assert clean()


def test_parts_of_a_line_never_add_up_to_more_than_it_and_the_last_takes_what_is_left():
    # The line: 3 × 0.125 = 0.375 → 0.38 net; each part is what the credited quantity is
    # worth (0.13, 0.25) minus what was credited before, the last what is left.
    invoice = issued_invoice(specs=[("Printing", "3", "0.125", "21"), ("Desk", "1", "10", "21")])
    printing = line(invoice, 1)
    nets = [credit(invoice, (1, "1")).lines.get().net.amount for _ in range(3)]

    assert nets == [Decimal("-0.13"), Decimal("-0.12"), Decimal("-0.13")]
    assert -sum(nets) == printing.net.amount
    # Each note's VAT is its own base × the rate, rounded once (0.13 × 21 % → 0.03): a line's
    # tax is its share of its rate's VAT, so it is bounded per rate, not per line.
    taxes = CreditNoteLine.objects.filter(invoice_line=printing).values_list("tax", flat=True)
    assert sorted(taxes) == [Decimal("-0.03")] * 3
    assert -sum(taxes) <= invoice.tax_total.amount
    with pytest.raises(NothingLeftToCredit):
        credit(invoice, (1, "1"))
    assert clean()


def test_an_amount_is_credited_at_a_rate_of_the_invoice_with_its_tax():
    invoice = issued_invoice(specs=SPECS)
    note = credit_note_issue(
        invoice=invoice,
        amount=AmountCredit(eur("50.00"), Decimal("21"), "Goodwill: air conditioning"),
        reason_code="goodwill",
        actor=staff_user(credit=True),
        channel=Channel.API,
    )
    [amount_line] = note.lines.all()
    assert amount_line.invoice_line is None
    assert amount_line.description == "Goodwill: air conditioning"
    assert (amount_line.quantity, amount_line.net, amount_line.tax) == (
        Decimal("-1"),
        eur("-50.00"),
        eur("-10.50"),
    )
    assert clean()


def test_partial_quantity_then_amount_then_cancel_credit_the_invoice_exactly_per_rate():
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, specs=SPECS)
    credit(invoice, (1, "2"), (3, "1"))
    credit(invoice, amount=AmountCredit(eur("20.00"), Decimal("9")))
    credit(invoice, (1, "1"))

    last = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED and last.cancels_invoice
    assert invoice.amount_credited == invoice.total
    notes = CreditNote.objects.filter(invoice=invoice)
    assert notes.count() == 4
    assert -sum(note.total.amount for note in notes) == invoice.total.amount
    credited = totals_by_rate(
        (ln.tax_rate, -ln.net.amount, -ln.tax.amount)
        for ln in CreditNoteLine.objects.filter(credit_note__invoice=invoice)
    )
    invoiced = totals_by_rate(
        (ln.tax_rate, ln.net.amount, ln.tax.amount) for ln in invoice.lines.all()
    )
    assert credited == invoiced
    # The cancel credited what was left: the rest of each line at 21%, and the 9% rate,
    # where a free amount was credited, as one remainder.
    remainder = [
        (ln.description, -ln.quantity, ln.invoice_line_id is not None) for ln in last.lines.all()
    ]
    assert remainder == [
        ("Day pass", Decimal("2"), True),
        ("Printing", Decimal("2"), True),
        ("Remainder at 9% tax", Decimal("1"), False),
    ]
    event = CancellationEvent.objects.get(invoice=invoice)
    assert event.credit_note == last
    assert customer_balance(customer=customer) == {"EUR": eur("0.00")}
    assert clean()


def test_crediting_everything_by_parts_cancels_the_invoice_and_takes_no_more_payment():
    invoice = issued_invoice(specs=[("Day pass", "5", "25.00", "21")])
    credit(invoice, (1, "3"))
    last = credit(invoice, (1, "2"), reason="All unused")

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED and last.cancels_invoice
    assert (invoice.cancellation_reason, invoice.cancellation_channel) == ("All unused", "admin")
    assert CancellationEvent.objects.get(invoice=invoice).credit_note == last
    with pytest.raises(NothingLeftToCredit):
        credit(invoice, (1, "1"))
    with pytest.raises(InvoiceNotPayable):
        payment_record(invoice=invoice, amount=eur("1.00"))
    assert clean()


def test_credit_beyond_what_is_due_becomes_account_credit_by_default():
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "21")], paid="90")
    # 31.00 is due; crediting 60.50 takes the 31.00 off and leaves 29.50 as account credit.
    note = credit(invoice, amount=AmountCredit(eur("50.00"), Decimal("21")))

    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_due) == (Invoice.State.PAID, eur("0.00"))
    assert (note.amount_off_due, note.account_credit_amount) == (eur("31.00"), eur("29.50"))
    assert available_credit(customer=customer, currency="EUR") == eur("29.50")
    assert customer_balance(customer=customer) == {"EUR": eur("-29.50")}
    assert clean()


def test_the_excess_can_be_refunded_or_settled_outside_and_the_parts_add_up():
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")], paid="all")
    note = credit(
        invoice,
        amount=AmountCredit(eur("60.00"), Decimal("0")),
        allocation=Allocation(
            refund=eur("25.00"), settled_outside=eur("5.00"), reference="IBAN NL01"
        ),
    )
    assert (
        note.amount_off_due,
        note.account_credit_amount,
        note.refund_amount,
        note.settled_outside_amount,
    ) == (eur("0"), eur("30.00"), eur("25.00"), eur("5.00"))
    refunds = {r.kind: r for r in Refund.objects.filter(credit_note=note)}
    assert refunds["refund"].amount == eur("25.00") and refunds["refund"].reference == "IBAN NL01"
    assert refunds["settled_outside"].amount == eur("5.00")
    kinds = sorted(
        LedgerEntry.objects.filter(customer=customer).values_list("kind", "amount"),
        key=str,
    )
    assert ("refund", Decimal("25.00")) in kinds and ("settled_outside", Decimal("5.00")) in kinds
    assert available_credit(customer=customer, currency="EUR") == eur("30.00")
    assert customer_balance(customer=customer) == {"EUR": eur("-30.00")}
    assert clean()


def test_cancelling_a_paid_invoice_can_refund_what_was_paid():
    customer = CustomerFactory()
    invoice = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")], paid="40")
    note = invoice_cancel(
        invoice=invoice, actor=None, channel=Channel.CLI, allocation=Allocation(refund=eur("40"))
    )
    assert (note.amount_off_due, note.refund_amount) == (eur("60.00"), eur("40.00"))
    assert available_credit(customer=customer, currency="EUR") == eur("0")
    assert customer_balance(customer=customer) == {"EUR": eur("0.00")}
    assert clean()


@pytest.mark.parametrize(
    ("request_for", "error", "code"),
    [
        (
            lambda inv, other: {"lines": [LineCredit(line(inv, 1).pk, "0")]},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(line(inv, 1).pk, "-1")]},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(line(inv, 1).pk, "0.0001")]},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(line(inv, 1).pk, 1.5)]},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (lambda inv, other: {"lines": []}, InvalidCreditNote, "credit_note_invalid"),
        (
            lambda inv, other: {
                "lines": [LineCredit(line(inv, 1).pk, "1"), LineCredit(line(inv, 1).pk, "1")]
            },
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(line(inv, 1).pk, "1")], "reason_code": "nope"},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(line(other, 1).pk, "1")]},
            CreditLineNotOnInvoice,
            "credit_line_not_on_invoice",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(987654321, "1")]},
            CreditLineNotOnInvoice,
            "credit_line_not_on_invoice",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(line(inv, 1).pk, "6")]},
            CreditExceedsLine,
            "credit_exceeds_line",
        ),
        (
            lambda inv, other: {"amount": AmountCredit(eur("10"), Decimal("20"))},
            TaxRateNotOnInvoice,
            "tax_rate_not_on_invoice",
        ),
        (
            lambda inv, other: {"amount": AmountCredit(eur("1000"), Decimal("21"))},
            CreditExceedsRate,
            "credit_exceeds_rate",
        ),
        (
            lambda inv, other: {"amount": AmountCredit(eur("0"), Decimal("21"))},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (
            lambda inv, other: {"amount": AmountCredit(eur("0.001"), Decimal("21"))},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
        (
            lambda inv, other: {"amount": AmountCredit(Money("5", "GBP"), Decimal("21"))},
            None,
            "currency_mismatch",
        ),
        (
            lambda inv, other: {
                "lines": [LineCredit(line(inv, 1).pk, "1")],
                "allocation": Allocation(refund=eur("0.01")),
            },
            InvalidAllocation,
            "credit_allocation_invalid",
        ),
        (
            lambda inv, other: {"lines": [LineCredit(line(inv, 1).pk, "1")], "channel": "fax"},
            InvalidCreditNote,
            "credit_note_invalid",
        ),
    ],
)
def test_bad_requests_are_refused_with_their_code_and_write_nothing(request_for, error, code):
    invoice = issued_invoice(specs=SPECS)
    other = issued_invoice(specs=SPECS)
    arguments = {"invoice": invoice, "actor": None, "channel": Channel.API}
    arguments |= request_for(invoice, other)
    before, row = counts(), Invoice.objects.values().get(pk=invoice.pk)
    with pytest.raises(error or Exception) as raised:
        credit_note_issue(**arguments)
    assert raised.value.code == code
    assert counts() == before
    assert Invoice.objects.values().get(pk=invoice.pk) == row


def test_drafts_and_cancelled_invoices_cannot_be_credited():
    with pytest.raises(InvoiceIsDraft):
        credit(draft_invoice(), (1, "1"))
    invoice = issued_invoice(specs=SPECS)
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    before = counts()
    with pytest.raises(NothingLeftToCredit) as raised:
        credit(invoice, (1, "1"))
    assert raised.value.code == "nothing_left_to_credit"
    assert counts() == before


def test_only_staff_with_the_permission_credit_and_members_never():
    member = portal_member(members_may_cancel=True)
    invoice = issued_invoice(customer=member, specs=SPECS)
    refused = [
        member.portal_user,
        staff_user(),  # may cancel, but not issue partial credit notes
        UserFactory(),
    ]
    for user in refused:
        with pytest.raises(CreditNotAllowed) as raised:
            credit(invoice, (1, "1"), actor=user, channel=Channel.API)
        assert raised.value.code == "credit_not_allowed"
    assert not CreditNote.objects.exists()
    note = credit(invoice, (1, "1"), actor=staff_user(credit=True), channel=Channel.API)
    assert note.created_by.has_perm("invoicing.issue_credit_note")


def test_a_partial_credit_note_runs_the_same_constant_queries_as_a_cancel():
    customer = CustomerFactory()
    specs = [(f"Line {i}", "2", "10.00", "21" if i % 2 else "9") for i in range(50)]
    small = issued_invoice(customer=customer, specs=[("Desk", "2", "10.00", "21")])
    large = issued_invoice(customer=customer, specs=specs)
    partial = []
    for invoice in (small, large):
        ids = list(invoice.lines.values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as queries:
            credit_note_issue(
                invoice=invoice,
                lines=[LineCredit(pk, Decimal("1")) for pk in ids],
                actor=None,
                channel=Channel.CLI,
            )
        partial.append(len(queries))
    cancels = []
    for invoice in (small, large):
        with CaptureQueriesContext(connection) as queries:
            invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
        cancels.append(len(queries))
    assert partial[0] == partial[1]
    assert cancels[0] == cancels[1]
    # The cancel also records its cancellation event and announces invoice.cancelled too
    # (one more webhook outbox row).
    assert 0 <= cancels[0] - partial[0] <= 2
