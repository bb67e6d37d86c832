"""``reconcile``'s output-VAT check reads the documents' VAT as sums grouped in SQL, not as
documents and lines (``tests/credits/test_reconcile_memory.py``): what it finds per location,
category and rate is still each document's VAT as posted, shared out by rate at its exchange
rate when the document is in another currency than the accounting one."""

from collections import defaultdict
from decimal import Decimal

import pytest

from books.reconciliation import check_output_vat, document_vat
from books.services import document_rate, vat_split
from coworking.iteration import Ids
from credits.models import CreditNote
from credits.services import LineCredit, credit_note_issue
from invoicing.models import Channel, Invoice
from tests.factories import CustomerFactory, issued_invoice

pytestmark = pytest.mark.django_db

LINES = (
    ("Dedicated desk", "3", "155.17", "21"),
    ("Meeting room (hours)", "7", "35.13", "9"),
)


def credit_one_of_the_first_line(invoice):
    first = invoice.lines.get(position=1)
    return credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=first.pk, quantity=Decimal("1"))],
        actor=None,
        channel=Channel.CLI,
    )


def each_document_loaded() -> dict:
    """The same totals from every document loaded with its lines, as posting splits them."""
    totals = defaultdict(lambda: Decimal("0.00"))
    for document in [*Invoice.objects.exclude(state="draft"), *CreditNote.objects.all()]:
        rate = document_rate(document, location=document.location)
        for (category, tax_rate), (_tax, converted) in vat_split(document, rate=rate).items():
            totals[(document.location_id, category, Decimal(tax_rate))] += converted
    return dict(totals)


@pytest.fixture
def documents():
    euro = issued_invoice(customer=CustomerFactory(), specs=LINES)
    usd = issued_invoice(
        customer=CustomerFactory(), specs=LINES, currency="USD", exchange_rate=Decimal("0.9213")
    )
    notes = [credit_one_of_the_first_line(euro), credit_one_of_the_first_line(usd)]
    assert usd.location.vat_currency == "EUR" and usd.tax_total_vat_currency > 0
    return euro, usd, notes


def test_the_documents_vat_is_what_each_states_in_and_out_of_the_accounting_currency(documents):
    euro, usd, (euro_note, usd_note) = documents

    stated = document_vat()

    def at(location_id):
        return sum(v for (location, _c, _r), v in stated.items() if location == location_id)

    assert at(euro.location_id) == euro.tax_total.amount + euro_note.tax_total.amount
    assert at(usd.location_id) == usd.tax_total_vat_currency + usd_note.tax_total_vat_currency
    assert {k: v for k, v in stated.items() if v} == {
        k: v for k, v in each_document_loaded().items() if v
    }
    assert {rate for (_l, _c, rate) in stated} == {Decimal("21"), Decimal("9")}
    assert check_output_vat() == []


def test_a_window_of_invoices_states_only_their_documents(documents):
    _euro, usd, _notes = documents

    stated = document_vat(invoices=Ids(among=[usd.pk]))

    assert {location for (location, _c, _r) in stated} == {usd.location_id}
    assert sum(stated.values()) == usd.tax_total_vat_currency + sum(
        CreditNote.objects.filter(invoice=usd).values_list("tax_total_vat_currency", flat=True)
    )
