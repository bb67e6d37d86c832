"""Line allowances (discounts, EN 16931 BG-27): a line's net is quantity × unit price − its
discount, rounded once; a discount is an amount in cents or a percentage, with a reason and
its UNTDID 5189 code, never above the line's gross (issue 19, finding 7)."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from coworking.models import LedgerEntry
from invoicing.errors import InvalidInvoiceLine
from invoicing.models import Invoice
from tests.factories import draft_invoice, issued_invoice, line

pytestmark = pytest.mark.django_db


def test_a_member_discount_can_be_expressed_and_issued():
    invoice = issued_invoice(
        specs=[
            line("Dedicated desk", "1", "320.00", "21", allowance="32.00", allowance_code="95"),
            ("Meeting room (hours)", "3", "35.00", "21"),
        ]
    )

    desk = invoice.lines.get(position=1)
    assert desk.allowance == Decimal("32.00")
    assert desk.allowance_reason_code == "95"
    assert desk.allowance_reason == "Discount"
    assert desk.net.amount == Decimal("288.00")
    assert invoice.net_total.amount == Decimal("393.00")
    assert invoice.tax_total.amount == Decimal("82.53")  # 393.00 × 21 %, rounded once
    assert invoice.state == Invoice.State.ISSUED and invoice.number
    call_command("reconcile")


def test_a_percentage_discount_is_turned_into_cents_once():
    invoice = draft_invoice(
        specs=[
            line(
                "Day pass",
                "3",
                "33.3333",
                "21",
                allowance_percent="15",
                allowance_reason="Member discount",
            )
        ]
    )

    day = invoice.lines.get()
    # gross 3 × 33.3333 = 99.9999 → 100.00; 15 % of it is 15.00; net 99.9999 − 15 → 85.00
    assert day.allowance == Decimal("15.00")
    assert day.allowance_percent == Decimal("15.00")
    assert day.allowance_reason == "Member discount"
    assert day.allowance_reason_code == "95"
    assert day.net.amount == Decimal("85.00")


@pytest.mark.parametrize(
    ("allowance", "percent", "message"),
    [
        ("320.01", None, "exceeds the amount it reduces"),
        ("10.001", None, "amount in cents"),
        ("-1.00", None, "cannot be negative"),
        (None, "100.5", "at most 100"),
        ("10.00", "10", "not both"),
    ],
)
def test_a_wrong_discount_is_refused_naming_the_line(allowance, percent, message):
    with pytest.raises(InvalidInvoiceLine, match=f"Line 2: .*{message}"):
        draft_invoice(
            specs=[
                ("Day pass", "1", "25.00", "21"),
                line("Desk", "1", "320.00", "21", allowance=allowance, allowance_percent=percent),
            ]
        )
    assert not Invoice.objects.exists()


def test_an_unknown_reason_code_is_refused():
    with pytest.raises(InvalidInvoiceLine, match="unknown discount reason code 999"):
        draft_invoice(
            specs=[line("Desk", "1", "320.00", "21", allowance="5", allowance_code="999")]
        )


def test_the_database_refuses_a_discount_without_a_reason():
    invoice = draft_invoice()
    with (
        pytest.raises(IntegrityError, match="allowance_with_reason"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE invoicing_invoiceline SET allowance = 1 WHERE invoice_id = %s", [invoice.pk]
        )


def test_a_full_discount_gives_a_zero_total_invoice_issued_paid_with_no_ledger_amount():
    invoice = issued_invoice(
        specs=[
            line(
                "First month free",
                "1",
                "320.00",
                "21",
                allowance_percent="100",
                allowance_reason="First month free",
            )
        ]
    )

    invoice.refresh_from_db()
    assert invoice.number
    assert invoice.total.amount == Decimal("0.00")
    assert invoice.state == Invoice.State.PAID
    assert not LedgerEntry.objects.filter(invoice=invoice).exists()
    call_command("reconcile")


def test_a_full_discount_of_a_gross_that_rounded_up_is_a_zero_total_not_a_negative_net():
    """Found by the VAT property test: 1 × 12.3450 is 12.35 gross; 100 % off it left a net
    of −0.01 (12.345 − 12.35 rounded), which the check before issuing refused (BR-CO-13)."""
    invoice = issued_invoice(
        specs=[line("Day pass", "1", "12.3450", "21", allowance_percent="100")]
    )

    line_ = invoice.lines.get()
    assert (line_.allowance, line_.net.amount) == (Decimal("12.35"), Decimal("0.00"))
    assert invoice.total.amount == Decimal("0.00") and invoice.state == Invoice.State.PAID
    call_command("reconcile")
