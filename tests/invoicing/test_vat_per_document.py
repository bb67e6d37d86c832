"""VAT per document, rounded once per rate; one precision rule for prices and quantities;
every document checked as an e-invoice before it takes its number (issue 19, findings 3
and 4, and "validate before issuing")."""

from decimal import Decimal

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from djmoney.money import Money

from coworking.documents.models import VatRounding
from coworking.documents.rendering import Formatter
from coworking.einvoice.document import Syntax
from coworking.einvoice.issue_check import EInvoiceInvalid
from coworking.einvoice.syntax import render
from coworking.einvoice.validation import validate
from coworking.models import Customer, LedgerEntry
from coworking.numbering import DocumentType, last_number
from credits.einvoice import credit_note_document
from credits.models import CreditNote
from credits.reconciliation import reconcile
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from credits.vat_reconciliation import check_vat_per_document
from invoicing.einvoice import invoice_document
from invoicing.errors import InvalidInvoiceLine
from invoicing.models import Channel, Invoice, InvoiceLine
from invoicing.services import invoice_issue
from tests.factories import CustomerFactory, draft_invoice, issued_invoice, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

D = Decimal


def eur(value: str) -> Money:
    return Money(D(value), "EUR")


def assert_valid_in_both_syntaxes(document) -> None:
    for syntax in Syntax.values:
        report = validate(render(document, syntax=syntax))
        assert report.valid, (syntax, report.problems())


def breakdown(document) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [(e.category, e.rate, e.taxable, e.tax) for e in document.vat_breakdown()]


def test_250_lines_of_two_cents_at_21_percent_state_the_vat_of_5_00():
    invoice = issued_invoice(specs=[(f"Page {n}", "1", "0.02", "21") for n in range(250)])

    assert (invoice.net_total, invoice.tax_total) == (eur("5.00"), eur("1.05"))
    document = invoice_document(invoice=invoice)
    assert breakdown(document) == [("S", D("21"), D("5.00"), D("1.05"))]
    assert sum(line.tax.amount for line in invoice.lines.all()) == D("1.05")
    assert invoice.vat_rounding == VatRounding.PER_DOCUMENT
    assert_valid_in_both_syntaxes(document)


def test_a_60_line_invoice_states_the_vat_of_each_rate_from_its_base():
    specs = [(f"Coffee {n}", "1", "0.02", "9") for n in range(50)]
    specs += [(f"Desk hour {n}", "1", "4.15", "21") for n in range(10)]
    invoice = issued_invoice(specs=specs)

    document = invoice_document(invoice=invoice)
    assert breakdown(document) == [
        ("S", D("21"), D("41.50"), D("8.72")),  # 8.715 rounded once
        ("S", D("9"), D("1.00"), D("0.09")),  # the per-line rule said 0.00
    ]
    assert invoice.tax_total == eur("8.81")
    assert_valid_in_both_syntaxes(document)


def test_a_four_decimal_unit_price_is_stored_printed_and_multiplies_out():
    invoice = issued_invoice(specs=[("Printed pages", "1000", "0.3349", "21")])

    line = invoice.lines.get()
    assert (line.unit_price, line.net, line.tax) == (eur("0.3349"), eur("334.90"), eur("70.33"))
    assert Formatter("en").unit_price(line.unit_price) == "€0.3349"
    assert Formatter("fr").unit_price(eur("320")) == "320,00\u00a0€"
    ubl = render(invoice_document(invoice=invoice), syntax=Syntax.UBL).decode()
    assert ">0.3349</cbc:PriceAmount>" in ubl
    assert ">334.90</cbc:LineExtensionAmount>" in ubl


@pytest.mark.parametrize(
    ("quantity", "price", "message"),
    [
        ("1.0005", "10.00", "at most three decimals"),
        ("1", "0.33495", "at most four decimals"),
    ],
)
def test_more_precision_than_is_stored_is_refused_not_rounded(quantity, price, message):
    with pytest.raises(InvalidInvoiceLine, match=message):
        draft_invoice(specs=[("Pages", quantity, price, "21")])
    assert not Invoice.objects.exists()


def test_partial_credit_notes_state_the_vat_of_their_own_base_and_reverse_it_exactly():
    invoice = issued_invoice(specs=[(f"Page {n}", "1", "0.02", "21") for n in range(250)])
    lines = list(invoice.lines.order_by("position"))

    first = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice_line=line.pk, quantity=D("1")) for line in lines[-100:]],
        actor=None,
        channel=Channel.CLI,
    )
    assert (first.net_total, first.tax_total) == (eur("-2.00"), eur("-0.42"))
    rest = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    assert (rest.net_total, rest.tax_total) == (eur("-3.00"), eur("-0.63"))
    assert first.tax_total + rest.tax_total == -invoice.tax_total
    for note in (first, rest):
        assert_valid_in_both_syntaxes(credit_note_document(credit_note=note))
    assert not any(reconcile().values())


def test_reconcile_holds_documents_issued_under_the_rule_to_it_and_no_others(database_breach):
    invoice = issued_invoice(specs=[("Desk", "1", "10.05", "21"), ("Coffee", "1", "1.05", "9")])
    assert check_vat_per_document() == []
    desk, coffee = invoice.lines.order_by("position")
    # 0.01 of VAT moved from one rate to the other: the total is unchanged, the rates are not.
    with pgtrigger.ignore("invoicing.InvoiceLine:frozen_after_issue"):
        InvoiceLine.objects.filter(pk=desk.pk).update(tax=desk.tax.amount - D("0.01"))
        InvoiceLine.objects.filter(pk=coffee.pk).update(tax=coffee.tax.amount + D("0.01"))

    assert sorted(breach.split(":")[0] for breach in check_vat_per_document()) == [
        f"Invoice {invoice.number} at 21.00%",
        f"Invoice {invoice.number} at 9.00%",
    ]
    with pgtrigger.ignore("invoicing.Invoice:issued_frozen"):
        Invoice.objects.filter(pk=invoice.pk).update(vat_rounding=VatRounding.PER_LINE)
    assert check_vat_per_document() == []


# --- Validate before issuing ---------------------------------------------------------------


def test_an_invoice_the_rules_refuse_is_not_issued_and_uses_no_number():
    customer = CustomerFactory(country="XX")  # no ISO 3166 country: BR-CL-14
    draft = draft_invoice(customer=customer)

    with pytest.raises(EInvoiceInvalid) as refused:
        invoice_issue(invoice=draft)

    assert refused.value.code == "einvoice_invalid"
    assert "BR-CL-14" in refused.value.message
    draft.refresh_from_db()
    assert (draft.state, draft.number, draft.sequence_number) == (Invoice.State.DRAFT, "", None)
    assert last_number(location_id=customer.location_id, document_type=DocumentType.INVOICE) == 0
    assert not LedgerEntry.objects.exists()


def test_a_credit_note_the_rules_refuse_is_not_issued_and_uses_no_number():
    invoice = issued_invoice()
    Customer.objects.filter(pk=invoice.customer_id).update(country="XX")

    with pytest.raises(EInvoiceInvalid, match="BR-CL-14"):
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    with pytest.raises(CommandError, match="BR-CL-14"):
        call_command("cancel_invoice", invoice.number)

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED
    assert not CreditNote.objects.exists()
    location = invoice.location_id
    assert last_number(location_id=location, document_type=DocumentType.CREDIT_NOTE) == 0


def test_the_api_answers_an_invalid_e_invoice_with_its_problem_code(api_client):
    invoice = issued_invoice()
    Customer.objects.filter(pk=invoice.customer_id).update(country="XX")

    response = api_client(staff_user()).post(
        f"/api/v1/invoices/{invoice.pk}/cancel", {}, format="json"
    )

    body = assert_problem(response, 422, "einvoice_invalid")
    assert "BR-CL-14" in body["detail"]
    assert not CreditNote.objects.exists()


def test_the_admin_says_why_it_did_not_issue_an_invalid_e_invoice(admin_client):
    draft = draft_invoice(customer=CustomerFactory(country="XX"))

    response = admin_client.post(f"/admin/invoicing/invoice/{draft.pk}/issue/", follow=True)

    page = response.content.decode()
    assert "would not be a valid e-invoice" in page and "BR-CL-14" in page
    draft.refresh_from_db()
    assert draft.state == Invoice.State.DRAFT
