"""A line discount on the documents: both e-invoice syntaxes state it (BG-27) with 0 fatal
findings under EN 16931 and Peppol BIS, and the PDF shows it under the line."""

import pytest
from lxml import etree

from coworking.einvoice.document import Syntax
from coworking.einvoice.validation import validate
from invoicing.einvoice import invoice_einvoice
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import (
    BankAccountFactory,
    issued_invoice,
    line,
    peppol_business,
    peppol_location,
)
from tests.helpers import normalise

pytestmark = pytest.mark.django_db

DISCOUNTED = [
    line(
        "Dedicated desk",
        "2",
        "320.00",
        "21",
        allowance_percent="10",
        allowance_reason="Member discount",
        allowance_code="95",
    ),
    line("Day pass", "3", "25.00", "21", allowance="7.50", allowance_code="100"),
    ("Meeting room (hours)", "1.5", "35.00", "9"),
]


def business_invoice(specs):
    """An invoice of a Dutch location to a Dutch business with a Peppol address."""
    location = peppol_location("NL")
    BankAccountFactory(location=location, iban="NL91ABNA0417164300", bic="ABNANL2A")
    return issued_invoice(customer=peppol_business(location, "NL"), specs=specs)


@pytest.mark.parametrize("syntax", Syntax.values)
def test_line_discounts_are_valid_in_both_syntaxes(syntax):
    invoice = business_invoice(DISCOUNTED)

    xml = invoice_einvoice(invoice=invoice, syntax=syntax)
    report = validate(xml, peppol=syntax == Syntax.UBL)

    assert [*report.schema_errors, *(str(f) for f in report.fatal)] == []
    text = etree.tostring(etree.fromstring(xml), encoding="unicode")
    assert "Member discount" in text and "64.00" in text  # 10 % of 640.00
    # The code's label in the Dutch customer's language, as the PDF prints it.
    assert "Speciale korting" in text and "7.50" in text


def test_the_pdf_shows_each_line_discount():
    invoice = issued_invoice(specs=DISCOUNTED)

    text = " ".join(normalise(pdf_text(invoice_pdf_bytes(invoice=invoice))).split())

    assert "Discount: Member discount (10%) −€64.00" in text
    assert "Discount: Special rebate −€7.50" in text
