"""How invoices are paid: the locations' bank accounts (validated, one per currency), the
payment reference each invoice is issued with (Belgian structured communication, ISO 11649
RF creditor reference), both e-invoice syntaxes stating BT-81..BT-86, the PDF's bank details
and EPC QR code read back from the page's image, and the refund account of credit notes."""

import subprocess
import tempfile
from decimal import Decimal

import pgtrigger
import pytest
import zxingcpp
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, connection, transaction
from facturx import parse_ubl_cii_xml
from PIL import Image
from stdnum import iso11649
from stdnum.be import ogm_vcs

from coworking.banking.accounts import bic_error, iban_error
from coworking.banking.epc_qr import epc_payload
from coworking.banking.models import BankAccount
from coworking.banking.references import (
    belgian_structured_reference,
    epc_remittance,
    rf_creditor_reference,
)
from coworking.einvoice.document import Syntax
from coworking.einvoice.validation import validate
from credits.einvoice import credit_note_einvoice
from credits.pdf import credit_note_pdf_bytes
from credits.services import Allocation, Rest, invoice_cancel
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import (
    BankAccountFactory,
    CustomerFactory,
    LocationFactory,
    belgian_location,
    eu_business,
    issued_invoice,
)
from tests.helpers import normalise

pytestmark = pytest.mark.django_db

NL_IBAN, NL_BIC = "NL91ABNA0417164300", "ABNANL2A"
BE_IBAN, BE_BIC = "BE71096123456769", "GKCCBEBB"
CUSTOMER_IBAN = "DE89370400440532013000"
SYNTAXES = [Syntax.CII, Syntax.UBL]


# --- IBAN and BIC ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iban", "says"),
    [
        ("NL92ABNA0417164300", "its check digits do not match"),
        ("NL58ABNA041716430", "does not have the length and format of its country's IBANs"),
        ("BE68539007547034", "its country or bank code is not a known one"),
        ("1234", "starts with a country code and two check digits"),
    ],
)
def test_an_invalid_iban_is_refused_with_a_sentence_saying_why(iban, says):
    account = BankAccountFactory.build(location=LocationFactory(), iban=iban)
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert refused.value.message_dict["iban"] == [iban_error(iban)]
    assert says in iban_error(iban) and iban in iban_error(iban)


@pytest.mark.parametrize("bic", ["ABNANL2", "ABNA1L2A", "ABNANL2AXX"])
def test_an_invalid_bic_is_refused_with_a_sentence(bic):
    account = BankAccountFactory.build(location=LocationFactory(), bic=bic)
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert refused.value.message_dict["bic"] == [bic_error(bic)]
    assert "is not a valid BIC: 8 or 11 letters and digits" in bic_error(bic)


def test_a_valid_account_is_stored_compact_and_upper_case():
    account = BankAccountFactory.build(
        location=LocationFactory(), iban="nl91 abna 0417 1643 00", bic="abna nl 2a"
    )
    account.full_clean()
    account.save()
    account.refresh_from_db()
    assert (account.iban, account.bic) == (NL_IBAN, NL_BIC)
    assert str(account) == "EUR NL91 ABNA 0417 1643 00"


def test_the_database_keeps_one_account_per_location_and_currency_and_their_shape():
    account = BankAccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BankAccountFactory(location=account.location)
    BankAccountFactory(location=account.location, currency="USD")  # another currency: fine
    for column, value in (("iban", "nl91 abna 0417 1643 00"), ("bic", "ABN"), ("iban", "")):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE coworking_bankaccount SET {column} = %s WHERE id = %s", [value, account.pk]
            )


def test_a_second_account_in_a_currency_is_refused_by_the_form_check_with_a_sentence():
    account = BankAccountFactory()
    again = BankAccountFactory.build(location=account.location, currency=account.currency)
    with pytest.raises(ValidationError) as refused:
        again.full_clean()
    assert "already has a bank account in this currency" in str(refused.value)


def test_a_customer_iban_is_checked_and_stored_compact():
    customer = CustomerFactory(iban="")
    customer.iban = "DE89 3704 0044 0532 0130 01"
    with pytest.raises(ValidationError) as refused:
        customer.full_clean()
    assert "check digits do not match" in refused.value.message_dict["iban"][0]
    customer.iban = "de89 3704 0044 0532 0130 00"
    customer.full_clean()
    assert customer.iban == CUSTOMER_IBAN


def test_the_location_admin_adds_an_account_inline_and_refuses_an_invalid_iban(admin_client):
    location = LocationFactory(tax_id="NL004495445B01")  # a valid VAT id: the form checks it
    url = f"/admin/coworking/location/{location.pk}/change/"
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {name: "" if form[name].value() is None else form[name].value() for name in form.fields}
    [inline] = page.context["inline_admin_formsets"]
    management = inline.formset.management_form
    data.update(
        {management.add_prefix(name): management[name].value() for name in management.fields}
    )
    row = {"currency": "EUR", "account_holder": location.legal_name, "bic": NL_BIC}
    data.update({f"bank_accounts-0-{name}": value for name, value in row.items()})
    data["bank_accounts-TOTAL_FORMS"] = "1"

    refused = admin_client.post(url, {**data, "bank_accounts-0-iban": "NL92ABNA0417164300"})
    assert refused.status_code == 200
    assert iban_error("NL92ABNA0417164300") in refused.content.decode().replace("&#x27;", "'")
    assert not BankAccount.objects.exists()

    saved = admin_client.post(url, {**data, "bank_accounts-0-iban": "nl91 abna 0417 1643 00"})
    assert saved.status_code == 302, saved.context["errors"]
    assert BankAccount.objects.get(location=location).iban == NL_IBAN


# --- Payment references ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "reference"),
    [
        (108068171, "+++010/8068/17183+++"),  # Febelfin's example, as python-stdnum's
        (909337554, "+++090/9337/55493+++"),
        (97, "+++000/0000/09797+++"),  # a multiple of 97 takes 97, never 00
        (1, "+++000/0000/00101+++"),
    ],
)
def test_the_belgian_structured_communication_has_its_mod_97_check_digits(number, reference):
    assert belgian_structured_reference(number) == reference
    assert ogm_vcs.is_valid(reference)
    assert epc_remittance(reference) == reference.replace("+", "").replace("/", "")


def test_a_structured_communication_holds_ten_digits_at_most():
    with pytest.raises(ValueError):
        belgian_structured_reference(10**10)


@pytest.mark.parametrize(
    ("reference", "rf"),
    # ISO 11649's published examples.
    [("539007547034", "RF18539007547034"), ("2348231", "RF712348231"), ("G72UUR", "RF45G72UUR")],
)
def test_the_rf_creditor_reference_has_iso_11649_check_digits(reference, rf):
    assert rf_creditor_reference(reference) == rf
    assert iso11649.is_valid(rf)


def test_an_rf_reference_keeps_the_invoice_numbers_letters_and_digits():
    assert rf_creditor_reference("AMS-2026-000042").endswith("AMS2026000042")
    assert iso11649.is_valid(rf_creditor_reference("AMS-2026-000042"))
    with pytest.raises(ValueError):
        rf_creditor_reference("X" * 22)


def test_an_invoice_is_issued_with_its_reference_and_account_and_keeps_them():
    account = BankAccountFactory(iban=NL_IBAN, bic=NL_BIC)
    invoice = issued_invoice(customer=CustomerFactory(location=account.location))
    assert invoice.payment_reference == rf_creditor_reference(invoice.number)
    assert invoice.payee_account == {
        "holder": account.location.legal_name,
        "iban": NL_IBAN,
        "bic": NL_BIC,
    }
    # The account changes later: the issued invoice states what it was issued with.
    BankAccount.objects.filter(pk=account.pk).update(iban="NL64ABNA0417164301")
    invoice.refresh_from_db()
    assert parse_ubl_cii_xml(invoice_einvoice(invoice=invoice, syntax="ubl"))["BT-84"] == NL_IBAN
    # And the database refuses to change them.
    for column, value in (("payment_reference", "RF00X"), ("payee_account", "{}")):
        with pytest.raises(InternalError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE invoicing_invoice SET {column} = %s WHERE id = %s", [value, invoice.pk]
            )


def test_a_belgian_invoice_asks_for_a_structured_communication():
    location = belgian_location()
    BankAccountFactory(location=location, iban=BE_IBAN, bic=BE_BIC)
    first, second = (issued_invoice(customer=CustomerFactory(location=location)) for _ in "12")
    assert first.payment_reference == belgian_structured_reference(first.pk)
    assert ogm_vcs.is_valid(second.payment_reference)
    assert first.payment_reference != second.payment_reference


def test_two_invoices_never_share_a_payment_reference():
    invoice = issued_invoice()
    other = issued_invoice()
    with (
        pgtrigger.ignore(),  # past the guards: the unique index refuses it
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE invoicing_invoice SET payment_reference = %s WHERE id = %s",
            [invoice.payment_reference, other.pk],
        )


def test_without_an_account_in_its_currency_an_invoice_has_a_reference_but_no_payment_means():
    invoice = issued_invoice()  # the factory's location has no bank account
    assert invoice.payment_reference and invoice.payee_account == {}
    for syntax in SYNTAXES:
        terms = parse_ubl_cii_xml(invoice_einvoice(invoice=invoice, syntax=syntax))
        assert "BT-81" not in terms and "BT-84" not in terms
    text = normalise(pdf_text(invoice_pdf_bytes(invoice=invoice)))
    assert "Payment reference" in text and "IBAN" not in text


# --- E-invoices -----------------------------------------------------------------------------


def shapes():
    """An invoice in euros from Amsterdam (SEPA), one in US dollars (another transfer),
    one from Brussels (a structured communication)."""
    amsterdam = LocationFactory()
    BankAccountFactory(location=amsterdam, iban=NL_IBAN, bic=NL_BIC)
    BankAccountFactory(location=amsterdam, currency="USD", iban="NL64ABNA0417164301", bic=NL_BIC)
    brussels = belgian_location()
    BankAccountFactory(location=brussels, iban=BE_IBAN, bic=BE_BIC)
    return [
        (issued_invoice(customer=eu_business(amsterdam)), "58", NL_IBAN),
        (issued_invoice(customer=CustomerFactory(location=amsterdam), currency="USD"), "30", None),
        (issued_invoice(customer=CustomerFactory(location=brussels)), "58", BE_IBAN),
    ]


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_both_syntaxes_state_the_payment_means_and_pass_en_16931(syntax):
    for invoice, code, iban in shapes():
        xml = invoice_einvoice(invoice=invoice, syntax=syntax)
        terms = parse_ubl_cii_xml(xml)
        account = invoice.payee_account
        assert terms["BT-81"] == code
        assert terms["BT-83"] == invoice.payment_reference
        assert terms["BT-84"] == account["iban"] == (iban or account["iban"])
        assert terms["BT-85"] == invoice.location.legal_name
        assert terms["BT-86"] == account["bic"]
        report = validate(xml)
        assert report.valid, report.problems()


# --- The PDF and its EPC QR code ------------------------------------------------------------


def test_the_epc_payload_reads_back_as_iban_amount_and_reference():
    payload = epc_payload(
        name="Canal House Coworking B.V.",
        iban=NL_IBAN,
        bic=NL_BIC,
        amount=Decimal("1975.6"),
        reference="RF18539007547034",
    )
    lines = payload.split("\n")
    assert lines[:4] == ["BCD", "002", "1", "SCT"]
    assert (lines[4], lines[5], lines[6], lines[7]) == (
        NL_BIC,
        "Canal House Coworking B.V.",
        NL_IBAN,
        "EUR1975.60",
    )
    assert lines[9] == "RF18539007547034" and len(lines) == 10  # no unstructured text
    with pytest.raises(ValueError):
        epc_payload(name="x", iban=NL_IBAN, amount=Decimal("0"))


def test_the_epc_payload_carries_free_text_only_without_a_reference():
    payload = epc_payload(name="x", iban=NL_IBAN, amount=Decimal("1"), text="Invoice 42")
    assert payload.split("\n")[9:] == ["", "Invoice 42"]


def qr_codes_on(pdf: bytes) -> list[str]:
    """The texts of the QR codes on the PDF's first page, read from its image."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            ["pdftoppm", "-r", "200", "-png", "-singlefile", "-", f"{folder}/page"],
            input=pdf,
            capture_output=True,
            check=True,
        )
        image = Image.open(f"{folder}/page.png").convert("L")
    return [code.text for code in zxingcpp.read_barcodes(image)]


def test_the_pdf_shows_the_bank_details_and_an_epc_qr_code_that_scans_back():
    invoice, _code, _iban = shapes()[0]
    pdf = invoice_pdf_bytes(invoice=invoice)
    text = normalise(pdf_text(pdf))
    assert "NL91 ABNA 0417 1643 00" in text and NL_BIC in text
    assert iso11649.format(invoice.payment_reference) in text
    [payload] = qr_codes_on(pdf)
    lines = payload.split("\n")
    assert lines[6] == NL_IBAN
    assert lines[7] == f"EUR{invoice.amount_due.amount}"
    assert lines[9] == invoice.payment_reference


def test_a_belgian_pdf_prints_the_structured_communication_and_its_qr_code_the_digits():
    invoice, _code, _iban = shapes()[2]
    pdf = invoice_pdf_bytes(invoice=invoice)
    assert invoice.payment_reference in normalise(pdf_text(pdf))
    [payload] = qr_codes_on(pdf)
    assert payload.split("\n")[9] == epc_remittance(invoice.payment_reference)


def test_a_dollar_invoice_has_bank_details_but_no_epc_qr_code():
    invoice, _code, _iban = shapes()[1]
    pdf = invoice_pdf_bytes(invoice=invoice)
    assert "NL64 ABNA 0417 1643 01" in normalise(pdf_text(pdf))
    assert qr_codes_on(pdf) == []


def test_an_invoice_paid_at_issue_by_account_credit_asks_for_no_transfer():
    account = BankAccountFactory()
    customer = CustomerFactory(location=account.location)
    first = issued_invoice(customer=customer, paid="all")
    invoice_cancel(invoice=first, actor=None, reason="", channel=Channel.CLI)  # credit held
    second = issued_invoice(customer=customer, specs=[("Day pass", "1", "10.00", "21")])
    assert second.amount_due.amount == 0
    pdf = invoice_pdf_bytes(invoice=second)
    assert "Payment by bank transfer" not in normalise(pdf_text(pdf))
    assert qr_codes_on(pdf) == []


# --- Credit notes that refund ---------------------------------------------------------------


def refunded_note(*, iban: str):
    account = BankAccountFactory()
    customer = CustomerFactory(location=account.location, iban=iban, language="en")
    invoice = issued_invoice(customer=customer, paid="all")
    return invoice_cancel(
        invoice=invoice,
        actor=None,
        reason="",
        channel=Channel.CLI,
        allocation=Allocation(rest=Rest.REFUND),
    )


def test_a_refunding_credit_note_states_the_customers_account_in_pdf_and_both_syntaxes():
    note = refunded_note(iban=CUSTOMER_IBAN)
    text = " ".join(normalise(pdf_text(credit_note_pdf_bytes(credit_note=note))).split())
    assert "is refunded to you by bank transfer to your account DE89 3704 0044 0532 0130 00" in text
    for syntax in SYNTAXES:
        xml = credit_note_einvoice(credit_note=note, syntax=syntax)
        terms = parse_ubl_cii_xml(xml)
        assert (terms["BT-81"], terms["BT-84"], terms["BT-83"]) == (
            "58",
            CUSTOMER_IBAN,
            note.number,
        )
        assert terms["BT-85"] == note.customer.billing_name
        report = validate(xml)
        assert report.valid, report.problems()


def test_a_refund_without_a_known_account_names_none():
    note = refunded_note(iban="")
    text = " ".join(normalise(pdf_text(credit_note_pdf_bytes(credit_note=note))).split())
    assert "is refunded to you." in text and "by bank transfer" not in text
    assert "BT-81" not in parse_ubl_cii_xml(credit_note_einvoice(credit_note=note, syntax="ubl"))
