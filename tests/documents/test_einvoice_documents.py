"""Every document shape the product makes, as CII and as UBL, passes the official EN 16931
rules with no fatal finding, and states what the database holds (read back by the
``factur-x`` package's parser, the same business terms from either syntax)."""

import datetime
from decimal import Decimal

import pgtrigger
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import translation
from django.utils.translation import gettext
from djmoney.money import Money
from facturx import parse_ubl_cii_xml

from coworking.documents.rendering import document_language
from coworking.einvoice import UnknownSyntax
from coworking.einvoice.document import Syntax
from coworking.einvoice.syntax import render
from coworking.einvoice.validation import validate
from credits.einvoice import credit_note_document, credit_note_einvoice
from credits.models import CreditNote, ReasonCode
from credits.services import AmountCredit, LineCredit, credit_note_issue, invoice_cancel
from invoicing.einvoice import invoice_document, invoice_einvoice
from invoicing.errors import InvoiceIsDraft
from invoicing.models import Channel, Invoice
from tests.factories import (
    REVERSE,
    CustomerFactory,
    LocationFactory,
    draft_invoice,
    exempt,
    french_location_with_service_periods,
    issued_invoice,
    line,
    reverse_charge_to_an_eu_business,
    usd_from_a_euro_location,
)

pytestmark = pytest.mark.django_db


def one_rate():
    return issued_invoice(specs=[("Dedicated desk", "1", "320.00", "21")])


def several_rates():
    return issued_invoice()  # 21 % and 9 %


def zero_rated():
    return issued_invoice(
        specs=[
            line("Printed handbooks", "10", "8.00", "0", category="Z"),
            ("Desk", "1", "190", "21"),
        ]
    )


def outside_scope():
    location = LocationFactory(registration_id="12345678")
    return issued_invoice(
        customer=CustomerFactory(location=location),
        specs=[line("Deposit for the keys", "1", "50.00", None, kind="deposit")],
    )


def gbp_location():
    location = LocationFactory(
        street_line1="12 Rivington Street",
        postcode="EC2A 3DU",
        city="London",
        country="GB",
        tax_id="GB980780684",
        default_currency="GBP",
        default_tax_rate=Decimal("20"),
    )
    return issued_invoice(
        customer=CustomerFactory(location=location, country="GB", postcode="EC1V 9HX"),
        specs=[("Hot desk", "1", "190.00", "20")],
    )


def customer_with_the_minimum_address():
    location = LocationFactory()
    customer = CustomerFactory(
        location=location, street_line1="", postcode="", city="", country="BE"
    )
    return issued_invoice(customer=customer, specs=[("Day pass", "1", "29.00", "21")])


SHAPES = {
    "one rate": one_rate,
    "several rates": several_rates,
    "zero rated": zero_rated,
    "exempt": exempt,
    "reverse charge to an EU business": reverse_charge_to_an_eu_business,
    "outside the scope of VAT": outside_scope,
    "in GBP": gbp_location,
    "in USD from a location paying VAT in EUR": usd_from_a_euro_location,
    "customer with only a country": customer_with_the_minimum_address,
    "French location, service periods, two rates": french_location_with_service_periods,
}


def valid_terms(xml: bytes) -> dict:
    """The business terms of a document that passes the rules (else the findings)."""
    report = validate(xml)
    assert report.valid, report.problems()
    return parse_ubl_cii_xml(xml)


@pytest.mark.parametrize("syntax", Syntax.values)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_validates_as_invoice_and_as_credit_note(shape, syntax):
    invoice = SHAPES[shape]()

    terms = valid_terms(invoice_einvoice(invoice=invoice, syntax=syntax))
    assert terms["BT-3"] == "380" and terms["BT-1"] == invoice.number
    assert Decimal(terms["BT-112"]) == invoice.total.amount
    assert Decimal(terms["BT-110"]) == invoice.tax_total.amount
    assert terms["BT-10"], "Peppol asks for a buyer or an order reference"

    note = invoice_cancel(invoice=invoice, actor=None, reason="Booked twice", channel=Channel.CLI)
    terms = valid_terms(credit_note_einvoice(credit_note=note, syntax=syntax))
    assert terms["BT-3"] == "381" and terms["BT-1"] == note.number
    assert terms["BG-3"] == [{"BT-25": invoice.number, "BT-26": invoice.issue_date}]
    assert Decimal(terms["BT-112"]) == invoice.total.amount  # positive: the type credits
    assert all(Decimal(line["BT-131"]) >= 0 for line in terms["BG-25"])
    assert all(Decimal(line["BT-129"]) > 0 for line in terms["BG-25"])


PARTIAL_SHAPES = [
    "several rates",
    "zero rated",
    "exempt",
    "reverse charge to an EU business",
    "in USD from a location paying VAT in EUR",
    "French location, service periods, two rates",
]


@pytest.mark.parametrize("syntax", Syntax.values)
@pytest.mark.parametrize("shape", PARTIAL_SHAPES)
def test_partial_credit_notes_validate_by_quantity_by_amount_and_the_remainder(shape, syntax):
    """A quantity of one line, then a goodwill amount at the first line's rate, then the
    cancel of what is left (one line per rate where an amount was credited): each note passes
    the EN 16931 rules with no fatal finding, refers to its invoice, states the customer
    reason (BT-22) and adds up to what it credits."""
    invoice = SHAPES[shape]()
    codes = (ReasonCode.SERVICE_NOT_USED, ReasonCode.GOODWILL)
    line = max(invoice.lines.all(), key=lambda line: (line.quantity, -line.position))
    first = invoice.lines.get(position=1)
    by_quantity = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=line.pk, quantity=min(line.quantity, Decimal("1")) / 2)],
        reason="Internal: booked twice",
        reason_code=codes[0],
        actor=None,
        channel=Channel.CLI,
    )
    by_amount = credit_note_issue(
        invoice=invoice,
        amount=AmountCredit(
            value=Money("5.00", invoice.currency), tax_rate=first.tax_rate, description="Goodwill"
        ),
        reason_code=codes[1],
        actor=None,
        channel=Channel.CLI,
    )
    remainder = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    assert remainder.lines.filter(invoice_line__isnull=True).exists()

    with translation.override(document_language(invoice.customer)):
        reasons = [gettext("Reason: %(reason)s") % {"reason": code.label} for code in codes]
    for note, reason in zip((by_quantity, by_amount), reasons, strict=True):
        terms = valid_terms(credit_note_einvoice(credit_note=note, syntax=syntax))
        assert terms["BT-3"] == "381"
        assert terms["BG-3"] == [{"BT-25": invoice.number, "BT-26": invoice.issue_date}]
        assert Decimal(terms["BT-112"]) == -note.total.amount > 0
        assert terms["BG-1"] == [{"BT-22": reason}]  # in the customer's language
        assert len(terms["BG-25"]) == 1
    terms = valid_terms(credit_note_einvoice(credit_note=remainder, syntax=syntax))
    assert Decimal(terms["BT-112"]) == -remainder.total.amount
    credited = sum(-note.total.amount for note in (by_quantity, by_amount, remainder))
    assert credited == invoice.total.amount


@pytest.mark.parametrize("syntax", Syntax.values)
def test_reverse_charge_states_the_reason_and_both_vat_ids(syntax):
    invoice = reverse_charge_to_an_eu_business()
    terms = valid_terms(invoice_einvoice(invoice=invoice, syntax=syntax))
    assert terms["BG-23"] == [
        {"BT-116": "2400.00", "BT-117": "0.00", "BT-118": "AE", "BT-119": "0",
         "BT-120": REVERSE, "BT-121": "VATEX-EU-AE"}
    ]  # fmt: skip
    assert terms["BG-7"]["vat_identifier"] == "DE136695976"
    assert terms["BG-4"]["vat_identifier"] == invoice.location.tax_id


@pytest.mark.parametrize("syntax", Syntax.values)
def test_outside_scope_states_no_rate_and_no_vat_id(syntax):
    terms = valid_terms(invoice_einvoice(invoice=outside_scope(), syntax=syntax))
    assert terms["BG-23"][0]["BT-118"] == "O" and "BT-119" not in terms["BG-23"][0]
    assert "vat_identifier" not in terms["BG-4"] and "vat_identifier" not in terms["BG-7"]
    assert terms["BG-4"]["legal_identifier"] == "12345678"


@pytest.mark.parametrize("syntax", Syntax.values)
def test_foreign_currency_states_the_vat_in_the_vat_currency(syntax):
    invoice = usd_from_a_euro_location()
    assert invoice.vat_exchange_rate == Decimal("0.9213")
    terms = valid_terms(invoice_einvoice(invoice=invoice, syntax=syntax))
    assert terms["BT-5"] == "USD" and terms["BT-6"] == "EUR"
    expected = (invoice.tax_total.amount * Decimal("0.9213")).quantize(Decimal("0.01"))
    assert Decimal(terms["BT-111"]) == expected == invoice.tax_total_vat_currency


@pytest.mark.parametrize("syntax", Syntax.values)
def test_minimum_address_is_the_country(syntax):
    terms = valid_terms(
        invoice_einvoice(invoice=customer_with_the_minimum_address(), syntax=syntax)
    )
    address = {k: v for k, v in terms["BG-7"].items() if k in ("addr_l1", "city", "postcode")}
    assert terms["BG-7"]["country_code"] == "BE" and address == {}


@pytest.mark.parametrize("syntax", Syntax.values)
def test_french_seller_legal_mentions_and_service_period(syntax):
    terms = valid_terms(
        invoice_einvoice(invoice=french_location_with_service_periods(), syntax=syntax)
    )
    seller = terms["BG-4"]
    assert seller["legal_identifier"] == "123456782" and seller["country_code"] == "FR"
    assert "SAS au capital de" in seller["legal_info"]
    assert "RCS Paris 123 456 782" in seller["legal_info"]
    assert "SIRET 12345678200002" in seller["legal_info"]
    desk = terms["BG-25"][0]
    assert (desk["BT-134"], desk["BT-135"]) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 31),
    )
    assert sorted(entry["BT-119"] for entry in terms["BG-23"]) == ["10", "20"]


def test_both_syntaxes_state_the_same_business_terms():
    invoice = french_location_with_service_periods()
    cii, ubl = (
        parse_ubl_cii_xml(invoice_einvoice(invoice=invoice, syntax=s)) for s in ("cii", "ubl")
    )
    for terms in (cii, ubl):
        terms.pop("BT-23", None)
        terms.pop("BT-24")
    assert cii == ubl


def test_ubl_is_peppol_bis_billing_3():
    terms = parse_ubl_cii_xml(invoice_einvoice(invoice=one_rate(), syntax="ubl"))
    assert (
        terms["BT-24"]
        == "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert terms["BT-23"] == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def test_buyer_reference_is_the_drafts_else_the_customers_else_the_number():
    mine = issued_invoice(buyer_reference="PO-778")
    assert mine.buyer_reference == "PO-778"
    customer = CustomerFactory(buyer_reference="Cost centre 4100")
    assert issued_invoice(customer=customer).buyer_reference == "Cost centre 4100"
    plain = issued_invoice()
    assert plain.buyer_reference == plain.number
    terms = parse_ubl_cii_xml(invoice_einvoice(invoice=mine, syntax="ubl"))
    assert terms["BT-10"] == "PO-778"


def test_same_document_same_bytes():
    invoice = several_rates()
    for syntax in Syntax.values:
        assert invoice_einvoice(invoice=invoice, syntax=syntax) == invoice_einvoice(
            invoice=invoice, syntax=syntax
        )


def test_the_rules_catch_a_broken_document():
    """The validation can fail: a document without its number breaks BR-02."""
    document = invoice_document(invoice=one_rate())
    broken = render(document.__class__(**{**document.__dict__, "number": " "}), syntax="ubl")
    report = validate(broken)
    assert not report.valid
    assert "BR-02" in {finding.rule for finding in report.fatal}


def test_a_schema_error_is_reported():
    xml = invoice_einvoice(invoice=one_rate(), syntax="cii")
    report = validate(xml.replace(b"<ram:TypeCode>380</ram:TypeCode>", b"<ram:Nonsense/>", 1))
    assert not report.valid and report.schema_errors


def test_a_draft_has_no_einvoice_and_an_unknown_syntax_is_refused():
    with pytest.raises(InvoiceIsDraft):
        invoice_einvoice(invoice=draft_invoice(), syntax="ubl")
    with pytest.raises(UnknownSyntax):
        invoice_einvoice(invoice=one_rate(), syntax="pdf")


def test_a_credit_note_keeps_the_invoices_reference_rate_and_vat_currency():
    invoice = usd_from_a_euro_location()
    note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    assert note.buyer_reference == invoice.buyer_reference
    assert (note.vat_currency, note.vat_exchange_rate) == ("EUR", Decimal("0.9213"))
    assert note.tax_total_vat_currency == -invoice.tax_total_vat_currency
    document = credit_note_document(credit_note=note)
    assert document.tax_total_vat_currency == invoice.tax_total_vat_currency


def test_validate_einvoices_command_passes_on_the_demo_and_fails_on_a_broken_document():
    call_command("seed_demo", "--invoices", "40")
    partial = CreditNote.objects.filter(cancels_invoice=False)
    assert partial.filter(lines__invoice_line__isnull=False).exists()  # by quantity
    assert partial.filter(lines__invoice_line__isnull=True).exists()  # an amount
    assert partial.filter(invoice__state="cancelled").exists()  # then the rest cancelled
    call_command("validate_einvoices")
    invoice = Invoice.objects.filter(state="issued").first()
    # A recorded buyer without a country (written past the guard, as only the table's owner
    # can): the invoice states no buyer country (BR-11).
    with (
        pgtrigger.ignore("invoicing.Invoice:issued_frozen"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE invoicing_invoice SET buyer = jsonb_set(buyer, '{country}', '\"\"') "
            "WHERE id = %s",
            [invoice.pk],
        )
    with pytest.raises(CommandError, match="with fatal findings"):
        call_command("validate_einvoices", "--syntax", "ubl")


def test_documents_keep_the_parties_as_issued():
    invoice = issued_invoice(customer=CustomerFactory(tax_id="DE136695976", country="DE"))
    as_issued = invoice_einvoice(invoice=invoice, syntax="ubl")
    location, customer = invoice.location, invoice.customer
    location.street_line1, location.legal_name = "Nieuwe Markt 1", "Renamed Coworking B.V."
    location.save()
    customer.billing_name, customer.tax_id = "Renamed GmbH", "DE999999999"
    customer.save()

    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice_einvoice(invoice=invoice, syntax="ubl") == as_issued
    assert invoice.seller["name"] == "Space" + invoice.seller["name"][5:]  # the old name
    assert invoice.buyer["vat_id"] == "DE136695976"

    # A credit note is issued now: it states the parties as they are now.
    note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    terms = valid_terms(credit_note_einvoice(credit_note=note, syntax="cii"))
    assert terms["BG-4"]["name"] == "Renamed Coworking B.V."
    assert terms["BG-4"]["addr_l1"] == "Nieuwe Markt 1"
    assert (terms["BG-7"]["name"], terms["BG-7"]["vat_identifier"]) == (
        "Renamed GmbH", "DE999999999",
    )  # fmt: skip


def test_the_database_refuses_to_change_the_parties_of_an_issued_document():
    invoice = issued_invoice()
    note = invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.CLI)
    for table, pk in (("invoicing_invoice", invoice.pk), ("credits_creditnote", note.pk)):
        with (
            pytest.raises((IntegrityError, InternalError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                f"UPDATE {table} SET seller = jsonb_set(seller, '{{name}}', '\"Other\"') "
                "WHERE id = %s",
                [pk],
            )


def test_the_database_refuses_an_issued_document_without_its_parties():
    """Even past the guards (the table's owner): an issued invoice or a credit note states
    the parties it recorded at issue, never the live location and customer."""
    invoice = issued_invoice()
    note = invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.CLI)
    guards = ("invoicing.Invoice:issued_frozen", "credits.CreditNote:frozen")
    for model, pk in ((Invoice, invoice.pk), (CreditNote, note.pk)):
        for party in ("seller", "buyer"):
            with (
                pgtrigger.ignore(*guards),
                pytest.raises(IntegrityError, match="with_parties"),
                transaction.atomic(),
            ):
                model.objects.filter(pk=pk).update(**{party: {}})
    assert Invoice.objects.get(pk=invoice.pk).seller["name"]
    draft = draft_invoice()
    assert (draft.seller, draft.buyer) == ({}, {})  # a draft records them when issued
