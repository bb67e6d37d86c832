"""Document level discounts and charges (EN 16931 BG-20/BG-21) on the documents: both
e-invoice syntaxes state them with 0 fatal findings under EN 16931 (and Peppol BIS for a
Peppol buyer), the VAT breakdown's base is moved by them, the PDF's totals block shows the
amounts the XML states, and the credit note of a cancel mirrors them."""

from decimal import Decimal

import pytest
from lxml import etree

from coworking.einvoice.document import Syntax
from coworking.einvoice.validation import validate
from credits.einvoice import credit_note_einvoice
from credits.pdf import credit_note_pdf_bytes
from credits.services import invoice_cancel
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import (
    BankAccountFactory,
    issued_invoice,
    peppol_business,
    peppol_location,
)
from tests.helpers import normalise

pytestmark = pytest.mark.django_db

SPECS = [
    ("Dedicated desk", "2", "320.00", "21"),
    ("Meeting room (hours)", "1.5", "35.00", "9"),
]
ROWS = [
    AllowanceChargeInput(
        percent=Decimal("10"), tax_rate=Decimal("21"), reason="Yearly contract", reason_code="102"
    ),
    AllowanceChargeInput(
        kind="charge", amount=Decimal("15.00"), tax_rate=Decimal("21"), reason_code="CG"
    ),
]
NS = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def business_invoice(rows=ROWS):
    location = peppol_location("NL")
    BankAccountFactory(location=location, iban="NL91ABNA0417164300", bic="ABNANL2A")
    return issued_invoice(
        customer=peppol_business(location, "NL"), specs=SPECS, allowance_charges=rows
    )


def findings(xml: bytes, *, peppol: bool = False) -> list[str]:
    report = validate(xml, peppol=peppol)
    return [*report.schema_errors, *(str(f) for f in report.fatal)]


def test_the_totals_follow_the_tax_basis():
    invoice = business_invoice()

    # Lines 640.00 at 21 % and 52.50 at 9 %; −64.00 (10 % of 640.00) + 15.00 at 21 %.
    assert invoice.net_total.amount == Decimal("643.50")
    # 21 % of 591.00 = 124.11 and 9 % of 52.50 = 4.725 → 4.73, each rounded once.
    assert invoice.tax_total.amount == Decimal("128.84")
    assert invoice.total.amount == Decimal("772.34")
    assert sum(line.tax.amount for line in invoice.lines.all()) == invoice.tax_total.amount


@pytest.mark.parametrize("syntax", Syntax.values)
def test_both_syntaxes_state_them_with_no_fatal_finding(syntax):
    invoice = business_invoice()

    xml = invoice_einvoice(invoice=invoice, syntax=syntax)

    assert findings(xml, peppol=syntax == Syntax.UBL) == []
    root = etree.fromstring(xml)
    if syntax == Syntax.CII:
        header = root.xpath("//ram:ApplicableHeaderTradeSettlement", namespaces=NS)[0]
        rows = header.xpath("ram:SpecifiedTradeAllowanceCharge", namespaces=NS)
        assert [r.findtext("ram:ActualAmount", namespaces=NS) for r in rows] == ["64.00", "15.00"]
        assert header.xpath("string(.//ram:AllowanceTotalAmount)", namespaces=NS) == "64.00"
        assert header.xpath("string(.//ram:ChargeTotalAmount)", namespaces=NS) == "15.00"
        bases = header.xpath("ram:ApplicableTradeTax/ram:BasisAmount/text()", namespaces=NS)
    else:
        rows = root.xpath("/*/cac:AllowanceCharge", namespaces=NS)
        assert [r.findtext("cbc:ChargeIndicator", namespaces=NS) for r in rows] == [
            "false",
            "true",
        ]
        assert rows[0].findtext("cbc:BaseAmount", namespaces=NS) == "640.00"
        bases = root.xpath("//cac:TaxSubtotal/cbc:TaxableAmount/text()", namespaces=NS)
    assert sorted(bases) == ["52.50", "591.00"]


def test_the_pdf_shows_the_amounts_the_xml_states():
    invoice = business_invoice()  # a Dutch customer: the PDF is in Dutch
    root = etree.fromstring(invoice_einvoice(invoice=invoice, syntax=Syntax.UBL))
    stated = {
        name: root.findtext(f"cac:LegalMonetaryTotal/cbc:{name}", namespaces=NS)
        for name in ("LineExtensionAmount", "AllowanceTotalAmount", "ChargeTotalAmount")
    }
    assert stated == {
        "LineExtensionAmount": "692.50",
        "AllowanceTotalAmount": "64.00",
        "ChargeTotalAmount": "15.00",
    }

    text = " ".join(normalise(pdf_text(invoice_pdf_bytes(invoice=invoice))).split())

    assert "€ 692,50" in text
    assert "Yearly contract (10%) Btw 21% € -64,00" in text
    assert "Schoonmaak Btw 21% € 15,00" in text
    assert "€ 643,50" in text and "€ 591,00 € 124,11" in text


def test_a_cancel_mirrors_them_and_reverses_the_totals_exactly():
    invoice = business_invoice()

    note = invoice_cancel(invoice=invoice, actor=None, reason="Wrong contract", channel=Channel.CLI)

    mirrored = list(note.allowance_charges.values_list("kind", "amount", "reason", "reason_code"))
    assert mirrored == [
        ("allowance", Decimal("64.00"), "Yearly contract", "102"),
        ("charge", Decimal("15.00"), "Schoonmaak", "CG"),
    ]
    assert (note.net_total, note.tax_total, note.total) == (
        -invoice.net_total,
        -invoice.tax_total,
        -invoice.total,
    )
    for syntax in Syntax.values:
        xml = credit_note_einvoice(credit_note=note, syntax=syntax)
        assert findings(xml, peppol=syntax == Syntax.UBL) == []
    text = " ".join(normalise(pdf_text(credit_note_pdf_bytes(credit_note=note))).split())
    assert "Yearly contract (10%) Btw 21% € 64,00" in text  # moves the credited net back


def test_a_full_discount_issues_a_valid_zero_total_invoice():
    invoice = business_invoice(
        rows=[
            AllowanceChargeInput(amount=Decimal("640.00"), tax_rate=Decimal("21")),
            AllowanceChargeInput(amount=Decimal("52.50"), tax_rate=Decimal("9")),
        ]
    )

    assert invoice.total.amount == 0 and invoice.number
    assert invoice.state == "paid" and invoice.ledger_entry is None
    for syntax in Syntax.values:
        assert findings(invoice_einvoice(invoice=invoice, syntax=syntax)) == []
