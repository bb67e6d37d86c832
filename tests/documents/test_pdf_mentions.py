"""What the law asks the PDF to state, read back with pdftotext: the VAT category mentions
with their reason, both VAT ids, service periods, the VAT in the accounting currency, French
legal mentions, and on credit notes no internal reason and the credit sentence only when
something was paid."""

import pytest
from djmoney.money import Money

from credits.pdf import credit_note_pdf_bytes
from credits.services import invoice_cancel
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from invoicing.services import payment_record
from tests.conftest import pdf_text
from tests.factories import (
    REVERSE,
    CustomerFactory,
    exempt,
    french_location_with_service_periods,
    issued_invoice,
    reverse_charge_to_an_eu_business,
    usd_from_a_euro_location,
)
from tests.helpers import normalise

pytestmark = pytest.mark.django_db


def text_of(invoice) -> str:
    return normalise(pdf_text(invoice_pdf_bytes(invoice=invoice)))


def test_reverse_charge_prints_the_mention_its_reason_and_both_vat_ids():
    invoice = reverse_charge_to_an_eu_business()
    text = text_of(invoice)
    assert "VAT 0% – Reverse charge" in text
    assert f"Reverse charge: {REVERSE}" in " ".join(text.split())
    assert f"VAT number: {invoice.location.tax_id}" in text
    assert f"VAT number: {invoice.customer.tax_id}" in text
    assert "Tax" not in text  # "VAT", as Europe says it


def test_an_exempt_line_prints_its_category_and_reason():
    text = " ".join(text_of(exempt()).split())
    assert "Exempt from VAT:" in text and "VAT 0% – Exempt from VAT" in text
    assert "VAT 21%" in text


def test_french_location_prints_its_legal_mentions_and_the_service_period_in_french():
    text = " ".join(text_of(french_location_with_service_periods()).split())
    assert "SAS au capital de 50 000,00 € – RCS Paris 123 456 782 – SIRET 12345678200002" in text
    assert "N° de TVA : FR11123456782" in text
    assert "Période de service : du 1 mars 2026 au 31 mars 2026" in text


def test_a_foreign_currency_invoice_prints_its_vat_in_the_accounting_currency_with_the_rate():
    invoice = usd_from_a_euro_location()
    text = " ".join(text_of(invoice).split())
    converted = f"€{invoice.tax_total_vat_currency:,}"
    assert f"VAT total in EUR: {converted} (exchange rate: 1 USD = 0.9213 EUR)" in text
    assert "VAT total in" not in " ".join(text_of(issued_invoice()).split())


def cancelled(*, paid: bool):
    invoice = issued_invoice(customer=CustomerFactory(language="en"))
    if paid:
        payment_record(invoice=invoice, amount=Money("10.00", invoice.currency))
    return invoice_cancel(
        invoice=invoice, actor=None, reason="Staff note: customer shouted", channel=Channel.CLI
    )


@pytest.mark.parametrize("paid", [False, True])
def test_a_credit_note_prints_no_internal_reason_and_the_credit_sentence_only_when_paid(paid):
    text = " ".join(
        normalise(pdf_text(credit_note_pdf_bytes(credit_note=cancelled(paid=paid)))).split()
    )
    assert "This credit note cancels the invoice above in full." in text
    assert "shouted" not in text and "Reason" not in text
    assert ("€10.00 stays as credit on your account" in text) is paid
