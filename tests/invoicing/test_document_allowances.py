"""Document level discounts and charges of a draft (EN 16931 BG-20/BG-21): written with
the lines and checked against them (VAT of a breakdown of the lines, amount or percentage,
reason codes from their lists), every refusal naming the row with nothing written; the
database refuses a non-positive amount, a foreign currency, and any change once issued."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from djmoney.money import Money

from coworking.errors import CurrencyMismatch
from coworking.vat_rules import SupplyKind
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.errors import InvalidAllowanceCharge
from invoicing.models import Invoice, InvoiceAllowanceCharge
from invoicing.services import invoice_draft_set_lines
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    draft_invoice,
    issued_invoice,
    line,
    lines,
)

pytestmark = pytest.mark.django_db

TWO_RATES = [("Desk", "1", "100.00", "21"), ("Coffee", "4", "2.50", "9")]


def test_a_percentage_of_its_breakdown_is_turned_into_cents_with_its_base():
    invoice = draft_invoice(
        specs=TWO_RATES,
        allowance_charges=[AllowanceChargeInput(percent=Decimal("7.5"), tax_rate=Decimal("9"))],
    )

    row = invoice.allowance_charges.get()
    assert (row.amount.amount, row.base_amount.amount, row.vat_category) == (
        Decimal("0.75"),
        Decimal("10.00"),
        "S",
    )
    assert (row.reason, row.reason_code) == ("Discount", "95")  # BR-33: a reason, always
    assert invoice.net_total.amount == Decimal("109.25")
    # 21 % of 100.00 + 9 % of 9.25 (0.8325 → 0.83), each rounded once
    assert invoice.tax_total.amount == Decimal("21.83")


def test_the_vat_follows_from_a_supply_kind_by_the_rules():
    location = LocationFactory(country="NL")
    customer = CustomerFactory(location=location, country="NL")
    invoice = draft_invoice(
        customer=customer,
        specs=[line("Desk", "1", "100.00", None, kind=SupplyKind.WORKSPACE)],
        allowance_charges=[
            AllowanceChargeInput(
                amount=Decimal("10.00"), supply_kind=SupplyKind.WORKSPACE, reason="Loyalty"
            )
        ],
    )

    row = invoice.allowance_charges.get()
    assert (row.vat_category, row.tax_rate) == ("S", Decimal("21.00"))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (AllowanceChargeInput(amount=Decimal("5")), "several VAT rates"),
        (
            AllowanceChargeInput(amount=Decimal("5"), tax_rate=Decimal("6")),
            "is not that of the invoice's lines",
        ),
        (
            AllowanceChargeInput(amount=Decimal("10.01"), tax_rate=Decimal("9")),
            "exceeds the amount it reduces",
        ),
        (AllowanceChargeInput(amount=Decimal("0.001"), tax_rate=Decimal("9")), "in cents"),
        (
            AllowanceChargeInput(amount=Decimal("1"), percent=Decimal("5"), tax_rate=Decimal("9")),
            "one of the two",
        ),
        (
            AllowanceChargeInput(amount=Decimal("1"), tax_rate=Decimal("9"), reason_code="CG"),
            "unknown reason code CG",
        ),
        (
            AllowanceChargeInput(kind="charge", amount=Decimal("1"), tax_rate=Decimal("9")),
            "a charge states its reason",
        ),
        (
            AllowanceChargeInput(
                kind="charge", amount=Decimal("1"), tax_rate=Decimal("9"), reason_code="95"
            ),
            "unknown reason code 95",
        ),
    ],
)
def test_a_row_that_does_not_fit_is_refused_naming_it(row, message):
    with pytest.raises(InvalidAllowanceCharge, match="Discount or charge 1: .*" + message):
        draft_invoice(specs=TWO_RATES, allowance_charges=[row])

    assert not Invoice.objects.exists()


def test_an_amount_in_another_currency_is_refused():
    with pytest.raises(CurrencyMismatch):
        draft_invoice(
            specs=TWO_RATES,
            allowance_charges=[
                AllowanceChargeInput(amount=Money("1.00", "USD"), tax_rate=Decimal("9"))
            ],
        )


def test_setting_the_lines_again_keeps_a_percentage_of_the_new_lines():
    invoice = draft_invoice(
        specs=[("Desk", "1", "100.00", "21")],
        allowance_charges=[AllowanceChargeInput(percent=Decimal("10"))],
    )

    invoice_draft_set_lines(
        invoice=invoice, lines=lines(("Desk", "2", "100.00", "21"), currency="EUR")
    )

    invoice.refresh_from_db()
    assert invoice.allowance_charges.get().amount.amount == Decimal("20.00")
    assert invoice.net_total.amount == Decimal("180.00")


def raw(sql: str, params: list, *, match: str):
    with (
        pytest.raises(IntegrityError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_the_database_refuses_a_non_positive_amount_and_a_foreign_currency():
    invoice = draft_invoice(
        specs=TWO_RATES,
        allowance_charges=[AllowanceChargeInput(amount=Decimal("1"), tax_rate=Decimal("9"))],
    )
    row = invoice.allowance_charges.get()

    raw(
        "UPDATE invoicing_invoiceallowancecharge SET amount = 0 WHERE id = %s",
        [row.pk],
        match="invoice_allowance_amount_positive",
    )
    raw(
        "UPDATE invoicing_invoiceallowancecharge SET amount_currency = 'USD' WHERE id = %s",
        [row.pk],
        match="in its invoice's currency",
    )
    raw(
        "UPDATE invoicing_invoiceallowancecharge SET reason = '' WHERE id = %s",
        [row.pk],
        match="invoice_allowance_has_reason",
    )


def test_the_database_refuses_any_change_once_issued():
    invoice = issued_invoice(
        specs=TWO_RATES,
        allowance_charges=[AllowanceChargeInput(amount=Decimal("1"), tax_rate=Decimal("9"))],
    )
    row = invoice.allowance_charges.get()

    raw(
        "UPDATE invoicing_invoiceallowancecharge SET reason = 'x' WHERE id = %s",
        [row.pk],
        match="issued invoice cannot be changed",
    )
    raw(
        "DELETE FROM invoicing_invoiceallowancecharge WHERE id = %s",
        [row.pk],
        match="issued invoice cannot be changed",
    )
    assert InvoiceAllowanceCharge.objects.filter(pk=row.pk).exists()
