"""The check before issuing runs the Peppol BIS Billing 3.0 rules for a buyer reached over
Peppol: a document that passes EN 16931 but that the Peppol network would refuse is not
issued, from any surface, and uses no number. The check builds the document from values
passed to it: a refused issue leaves the caller's instance and the row as they were.

The Peppol-only fault used here: a seller without a Peppol address of its own
(PEPPOL-EN16931-R020), which EN 16931 does not ask for."""

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from coworking.einvoice.issue_check import EInvoiceInvalid
from coworking.models import LedgerEntry, Location
from coworking.numbering import DocumentType, last_number
from credits.models import CreditNote
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.services import invoice_issue
from tests.factories import (
    CustomerFactory,
    draft_invoice,
    issued_invoice,
    peppol_business,
    peppol_location,
    staff_user,
)
from tests.helpers import assert_problem, messages_of, post_action

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

PEPPOL_ONLY = "PEPPOL-EN16931-R020"
DESK = [("Dedicated desk", "1", "320.00", "21")]


def location_without_peppol_address():
    return peppol_location("BE", electronic_address_scheme="", electronic_address="")


def as_stored(invoice: Invoice) -> dict:
    return {
        **model_to_dict(Invoice.objects.get(pk=invoice.pk)),
        "lines": list(InvoiceLine.objects.filter(invoice=invoice).order_by("pk").values()),
    }


def nothing_issued(location_id: int) -> None:
    assert last_number(location_id=location_id, document_type=DocumentType.INVOICE) == 0
    assert last_number(location_id=location_id, document_type=DocumentType.CREDIT_NOTE) == 0
    assert not CreditNote.objects.exists()


def test_a_peppol_only_fault_refuses_the_invoice_and_leaves_instance_and_row_unchanged():
    location = location_without_peppol_address()
    draft = draft_invoice(customer=peppol_business(location, "BE"), specs=DESK)
    in_memory, stored = model_to_dict(draft), as_stored(draft)
    number_attribute = draft.number

    with pytest.raises(EInvoiceInvalid) as refused:
        invoice_issue(invoice=draft)

    assert refused.value.code == "einvoice_invalid"
    assert PEPPOL_ONLY in refused.value.message
    assert "Peppol BIS Billing 3.0" in refused.value.message
    assert any(PEPPOL_ONLY in finding for finding in refused.value.extra["findings"])
    assert model_to_dict(draft) == in_memory and draft.number == number_attribute == ""
    assert as_stored(draft) == stored
    nothing_issued(location.pk)
    assert not LedgerEntry.objects.exists() and not Payment.objects.exists()


def test_the_same_invoice_to_a_consumer_is_issued_the_peppol_rules_are_for_peppol_buyers():
    location = location_without_peppol_address()
    member = CustomerFactory(location=location, country="BE", postcode="1000", city="Bruxelles")

    invoice = issued_invoice(customer=member, specs=DESK)

    assert invoice.state == Invoice.State.ISSUED and invoice.sequence_number == 1


def test_the_admin_names_the_peppol_rule_and_issues_nothing(admin_client):
    location = location_without_peppol_address()
    draft = draft_invoice(customer=peppol_business(location, "BE"), specs=DESK)
    stored = as_stored(draft)

    response = admin_client.post(f"/admin/invoicing/invoice/{draft.pk}/issue/", follow=True)

    errors = [text for level, text in messages_of(response) if level >= 40]
    assert len(errors) == 1 and PEPPOL_ONLY in errors[0], messages_of(response)
    assert "would not be a valid e-invoice" in errors[0]
    assert as_stored(draft) == stored
    nothing_issued(location.pk)


@pytest.fixture
def invoice_whose_seller_then_lost_its_peppol_address():
    """An invoice issued to a Peppol buyer; then the location's Peppol address is removed, so
    a credit note on it (the seller as it is now) would break PEPPOL-EN16931-R020."""
    location = peppol_location("BE")
    invoice = issued_invoice(customer=peppol_business(location, "BE"), specs=DESK)
    Location.objects.filter(pk=location.pk).update(
        electronic_address_scheme="", electronic_address=""
    )
    return invoice


def assert_not_credited(invoice: Invoice) -> None:
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED
    assert not CreditNote.objects.exists()
    location = invoice.location_id
    assert last_number(location_id=location, document_type=DocumentType.CREDIT_NOTE) == 0
    assert LedgerEntry.objects.count() == 1  # the invoice's own


def test_the_cli_exits_non_zero_naming_the_peppol_rule(
    invoice_whose_seller_then_lost_its_peppol_address,
):
    invoice = invoice_whose_seller_then_lost_its_peppol_address

    with pytest.raises(CommandError, match=PEPPOL_ONLY) as refused:
        call_command("cancel_invoice", invoice.number)

    assert refused.value.returncode == 1
    assert_not_credited(invoice)


def test_the_api_answers_einvoice_invalid_with_the_peppol_rule(
    api_client, invoice_whose_seller_then_lost_its_peppol_address
):
    invoice = invoice_whose_seller_then_lost_its_peppol_address

    response = api_client(staff_user()).post(
        f"/api/v1/invoices/{invoice.pk}/cancel", {}, format="json"
    )

    body = assert_problem(response, 422, "einvoice_invalid")
    assert PEPPOL_ONLY in body["detail"]
    assert_not_credited(invoice)


def test_the_admin_cancel_reports_the_peppol_rule(
    admin_client, invoice_whose_seller_then_lost_its_peppol_address
):
    invoice = invoice_whose_seller_then_lost_its_peppol_address

    response = post_action(admin_client, [invoice], post="yes", follow=True)

    assert any(PEPPOL_ONLY in text for _level, text in messages_of(response))
    assert_not_credited(invoice)
