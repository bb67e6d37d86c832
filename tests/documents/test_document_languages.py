"""The language of a customer's documents: the customer's own, else its location's (one
place decides: ``document_language``). Every language names the parties' countries, never
their ISO codes, heads a credit note's customer without "Billed to", and titles a credit note
as its law does: in German a "Stornorechnung" (a full cancellation) or "Rechnungskorrektur",
never a "Gutschrift"; in Dutch a "Creditnota"."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from coworking.documents.rendering import document_language
from credits.documents import CREDIT_NOTE_DOCUMENT, credit_note_send_email
from credits.pdf import credit_note_pdf_bytes
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, line
from tests.helpers import normalise

pytestmark = pytest.mark.django_db

MARCH_5 = datetime.date(2026, 3, 5)


def text(data: bytes) -> str:
    return " ".join(normalise(pdf_text(data)).split())


def customer(*, location_language="en", language="", country="DE"):
    location = LocationFactory(language=location_language, email_documents=True)
    return CustomerFactory(location=location, language=language, country=country)


def full_note(customer):
    invoice = issued_invoice(customer=customer, issue_date=MARCH_5)
    return invoice_cancel(invoice=invoice, actor=None, channel=Channel.ADMIN)


def partial_note(customer):
    invoice = issued_invoice(customer=customer, issue_date=MARCH_5)
    desk = invoice.lines.get(position=1)
    return credit_note_issue(
        invoice=invoice, lines=[LineCredit(desk.pk, Decimal("1"))], actor=None, channel="admin"
    )


def test_the_customers_language_else_the_locations_decides():
    assert document_language(customer(location_language="nl")) == "nl"
    assert document_language(customer(location_language="nl", language="de")) == "de"
    assert document_language(customer()) == "en"


def test_english_invoice_says_vat_number_vat_rate_day_month_year_and_country_names():
    invoice = issued_invoice(customer=customer(), issue_date=MARCH_5)

    pdf = text(invoice_pdf_bytes(invoice=invoice))

    assert "BILLED TO" in pdf  # labels are set in capitals
    assert f"VAT number: {invoice.location.tax_id}" in pdf
    assert "VAT 21%" in pdf and "VAT 9%" in pdf and "Tax" not in pdf
    assert "5 March 2026" in pdf
    assert "Netherlands" in pdf and "Germany" in pdf  # the location's and the customer's
    assert " NL " not in f" {pdf} " and " DE " not in f" {pdf} "


def test_english_credit_note_heads_its_customer_without_billed_to():
    pdf = text(credit_note_pdf_bytes(credit_note=full_note(customer())))
    assert "CUSTOMER" in pdf and "BILLED TO" not in pdf
    assert "Credit note" in pdf


@pytest.mark.parametrize(
    ("language", "full_title", "partial_title", "heading", "countries"),
    [
        ("de", "Stornorechnung", "Rechnungskorrektur", "Kunde", ("Niederlande", "Deutschland")),
        ("nl", "Creditnota", "Creditnota", "Klant", ("Nederland", "Duitsland")),
        ("fr", "Avoir", "Avoir", "Client", ("Pays-Bas", "Allemagne")),
    ],
)
def test_credit_notes_in_german_dutch_and_french(
    language, full_title, partial_title, heading, countries
):
    full = text(credit_note_pdf_bytes(credit_note=full_note(customer(location_language=language))))
    partial = text(
        credit_note_pdf_bytes(credit_note=partial_note(customer(location_language=language)))
    )

    assert full.startswith(f"{full_title} ") or f" {full_title} " in full
    assert f" {partial_title} " in f" {partial} "
    for pdf in (full, partial):
        assert "Gutschrift" not in pdf and "Credit note" not in pdf
        assert heading.upper() in pdf  # labels are set in capitals
        assert "BILLED TO" not in pdf and "RECHNUNGSEMPFÄNGER" not in pdf
        assert all(country in pdf for country in countries)
    if language == "de":
        assert "Storniert die Rechnung" in full and "5. März 2026" in full
        assert "Korrigiert die Rechnung" in partial
        assert "-387,20 €" in partial  # the desk: 320.00 + 21 % VAT, credited
        assert "USt 21%" in partial and "USt-IdNr.:" in partial
    if language == "nl":
        assert "5 maart 2026" in full and "Btw 21%" in full and "Btw-nummer:" in full


def test_invoice_in_dutch_is_billed_to_with_dutch_labels():
    invoice = issued_invoice(customer=customer(location_language="nl"), issue_date=MARCH_5)
    pdf = text(invoice_pdf_bytes(invoice=invoice))
    assert "Factuur" in pdf and "GEFACTUREERD AAN" in pdf and "Vervaldatum" in pdf
    assert "Te betalen" in pdf and "Duitsland" in pdf


def test_a_german_invoice_names_its_discounts_and_charges_in_german():
    """The discount and charge labels, their reason codes' names and the totals block's
    rows are what a German customer reads, so they are in the German catalog too."""
    invoice = issued_invoice(
        customer=customer(location_language="de"),
        specs=[line("Day pass", "3", "25.00", "21", allowance="7.50", allowance_code="100")],
        allowance_charges=[
            AllowanceChargeInput(percent=Decimal("10"), tax_rate=Decimal("21"), reason_code="95"),
            AllowanceChargeInput(
                kind="charge", amount=Decimal("15.00"), tax_rate=Decimal("21"), reason_code="CG"
            ),
        ],
    )

    pdf = text(invoice_pdf_bytes(invoice=invoice))

    assert "Rabatt: Sonderrabatt −7,50 €" in pdf
    assert "Summe der Positionen" in pdf and "Nettobetrag" in pdf
    assert "Rabatt: Rabatt" in pdf and "Zuschlag: Reinigung" in pdf
    for english in ("Discount", "Charge", "Special rebate", "Cleaning", "Net total", "Sum of"):
        assert english not in pdf


def test_the_email_of_a_german_cancellation_is_a_stornorechnung(private_documents):
    note = CREDIT_NOTE_DOCUMENT.render_pdf(document=full_note(customer(location_language="de")))

    assert credit_note_send_email(credit_note=note) is True

    (message,) = mail.outbox
    assert message.subject == f"Stornorechnung {note.number} von {note.location.legal_name}"
    assert f"die Stornorechnung {note.number}" in message.body
    assert "Gutschrift" not in message.body


def test_the_email_of_a_partial_note_does_not_say_it_cancels_in_full(private_documents):
    note = CREDIT_NOTE_DOCUMENT.render_pdf(document=partial_note(customer(location_language="en")))

    assert credit_note_send_email(credit_note=note) is True

    (message,) = mail.outbox
    assert message.subject.startswith(f"Credit note {note.number} from ")
    assert f"which corrects invoice {note.invoice_number}." in message.body
    assert "in full" not in message.body
