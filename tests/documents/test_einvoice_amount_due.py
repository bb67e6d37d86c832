"""What is due is stated once: an invoice issued with account credit applied says, in the
PDF and in both e-invoice syntaxes, the same prepaid amount (BT-113) and amount due
(BT-115), so the buyer's software does not pay what the credit already settled."""

from decimal import Decimal

import pytest
from facturx import parse_ubl_cii_xml

from coworking.einvoice.document import Syntax
from coworking.einvoice.validation import validate
from credits.services import invoice_cancel
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import CustomerFactory, issued_invoice

pytestmark = pytest.mark.django_db

DESK = (("Dedicated desk", "1", "200.00", "21"),)  # 242.00 with VAT
HALF = (("Meeting room (hours)", "1", "100.00", "21"),)  # 121.00 with VAT


@pytest.fixture
def invoice_with_credit_applied():
    customer = CustomerFactory()
    earlier = issued_invoice(customer=customer, specs=HALF, paid="all")
    invoice_cancel(invoice=earlier, actor=None, channel=Channel.CLI)  # 121.00 of credit
    invoice = issued_invoice(customer=customer, specs=DESK)
    assert invoice.amount_due.amount == Decimal("121.00")
    return invoice


@pytest.mark.parametrize("syntax", Syntax.values)
def test_credit_applied_at_issue_is_prepaid_and_the_payable_amount_is_what_is_due(
    invoice_with_credit_applied, syntax
):
    xml = invoice_einvoice(invoice=invoice_with_credit_applied, syntax=syntax)
    terms = parse_ubl_cii_xml(xml)

    assert Decimal(terms["BT-112"]) == Decimal("242.00")
    assert Decimal(terms["BT-113"]) == Decimal("121.00")
    assert Decimal(terms["BT-115"]) == Decimal("121.00")
    report = validate(xml)
    assert report.valid, report.problems()


def test_the_pdf_and_its_embedded_xml_state_the_same_amount_due(invoice_with_credit_applied):
    pdf = invoice_pdf_bytes(invoice=invoice_with_credit_applied)

    assert "121.00" in pdf_text(pdf).split("Amount due")[-1].splitlines()[0]
    embedded = validate(pdf)
    assert embedded.valid, embedded.problems()
    from facturx import get_xml_from_pdf

    _name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    assert Decimal(parse_ubl_cii_xml(xml)["BT-115"]) == Decimal("121.00")


def test_without_credit_the_payable_amount_is_the_total():
    terms = parse_ubl_cii_xml(invoice_einvoice(invoice=issued_invoice(specs=DESK), syntax="ubl"))

    assert "BT-113" not in terms
    assert Decimal(terms["BT-115"]) == Decimal("242.00")
