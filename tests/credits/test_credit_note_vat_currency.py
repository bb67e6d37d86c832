"""A credit note on an invoice in another currency than its VAT currency states its own VAT
in the VAT currency (BT-111), at the rate of the invoice it corrects, and the notes of a fully
credited invoice reverse exactly the VAT it charged, in both currencies."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db.models import Sum
from facturx import parse_ubl_cii_xml

from coworking.einvoice.document import Syntax
from coworking.einvoice.validation import validate
from credits.einvoice import credit_note_einvoice
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from invoicing.models import Channel
from tests.factories import CustomerFactory, issued_invoice

pytestmark = pytest.mark.django_db

LINES = (
    ("Dedicated desk", "3", "155.17", "21"),
    ("Meeting room (hours)", "7", "35.13", "9"),
)


@pytest.fixture
def usd_invoice():
    customer = CustomerFactory()
    invoice = issued_invoice(
        customer=customer, specs=LINES, currency="USD", exchange_rate=Decimal("0.9213")
    )
    assert invoice.vat_currency == "EUR" and invoice.tax_total_vat_currency > 0
    return invoice


def credit_one_desk(invoice):
    desk = invoice.lines.get(position=1)
    return credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=desk.pk, quantity=Decimal("1"))],
        actor=None,
        channel=Channel.CLI,
    )


def test_a_partial_note_states_its_own_vat_in_the_vat_currency(usd_invoice):
    note = credit_one_desk(usd_invoice)

    own = (-note.tax_total.amount * Decimal("0.9213")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert note.tax_total_vat_currency == -own
    assert -note.tax_total_vat_currency < usd_invoice.tax_total_vat_currency
    for syntax in Syntax.values:
        xml = credit_note_einvoice(credit_note=note, syntax=syntax)
        assert Decimal(parse_ubl_cii_xml(xml)["BT-111"]) == own
        report = validate(xml)
        assert report.valid, report.problems()


def test_the_notes_of_a_fully_credited_invoice_reverse_its_vat_in_both_currencies(usd_invoice):
    credit_one_desk(usd_invoice)
    credit_one_desk(usd_invoice)
    invoice_cancel(invoice=usd_invoice, actor=None, channel=Channel.CLI)

    notes = usd_invoice.credit_notes.aggregate(
        tax=Sum("tax_total"), vat_currency=Sum("tax_total_vat_currency")
    )
    assert usd_invoice.credit_notes.count() == 3
    assert -notes["tax"] == usd_invoice.tax_total.amount
    assert -notes["vat_currency"] == usd_invoice.tax_total_vat_currency
