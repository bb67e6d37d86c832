"""The books of documents with document level discounts and charges: revenue is posted net
of them in its own accounts (no chart has a discount account), the entries balance, the VAT
summary's bases are the documents' VAT breakdown bases, and reconcile stays clean through a
cancel."""

from decimal import Decimal

import pytest

from books.models import JournalEntry, JournalLine, Purpose
from books.selectors import vat_summary
from credits.reconciliation import reconcile
from credits.services import invoice_cancel
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.models import Channel
from tests.factories import CustomerFactory, french_location, issued_invoice

pytestmark = pytest.mark.django_db


def sums(source: str) -> tuple[Decimal, Decimal]:
    lines = JournalLine.objects.filter(entry__source=source)
    return (
        sum((line.debit for line in lines), Decimal(0)),
        sum((line.credit for line in lines), Decimal(0)),
    )


def revenue(source: str) -> list[tuple]:
    return list(
        JournalLine.objects.filter(entry__source=source, purpose=Purpose.REVENUE)
        .order_by("position")
        .values_list("account_code", "debit", "credit")
    )


def test_revenue_is_net_of_the_discount_and_the_entries_balance():
    customer = CustomerFactory(location=french_location())
    invoice = issued_invoice(
        customer=customer,
        specs=[("Desk", "1", "300.00", "20"), ("Coffee", "2", "10.00", "10")],
        allowance_charges=[
            AllowanceChargeInput(amount=Decimal("30.00"), tax_rate=Decimal("20")),
            AllowanceChargeInput(
                kind="charge", amount=Decimal("5.00"), tax_rate=Decimal("10"), reason_code="CG"
            ),
        ],
    )
    source = f"invoice:{invoice.pk}"

    assert revenue(source) == [
        ("706000", Decimal("0"), Decimal("25.00")),
        ("706000", Decimal("0"), Decimal("270.00")),
    ]
    debit, credit = sums(source)
    assert debit == credit == invoice.total.amount == Decimal("351.50")  # 295 + 54 + 2.50
    entry = JournalEntry.objects.get(source=source)
    rows = {(row.category, row.rate): (row.base, row.vat) for row in vat_summary(
        location=invoice.location, start=entry.date, end=entry.date
    )}  # fmt: skip
    assert rows == {
        ("S", Decimal("10.00")): (Decimal("25.00"), Decimal("2.50")),
        ("S", Decimal("20.00")): (Decimal("270.00"), Decimal("54.00")),
    }

    note = invoice_cancel(invoice=invoice, actor=None, reason="", channel=Channel.CLI)

    debit, credit = sums(f"credit_note:{note.pk}")
    assert debit == credit == invoice.total.amount
    assert revenue(f"credit_note:{note.pk}") == [
        ("706000", Decimal("25.00"), Decimal("0")),
        ("706000", Decimal("270.00"), Decimal("0")),
    ]
    assert {name: found for name, found in reconcile().items() if found} == {}
