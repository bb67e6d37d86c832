"""A zero-total invoice (a free trial day): issued and numbered like any other, with nothing
to pay and nothing on the customer's account; nothing to credit or cancel either."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from coworking.einvoice.document import Syntax
from coworking.einvoice.validation import validate
from coworking.models import LedgerEntry
from credits.errors import NothingLeftToCredit
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel, Invoice
from tests.factories import CustomerFactory, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db

FREE_DAY = (("Trial day pass", "1", "0.00", "21"),)


def test_a_zero_total_invoice_is_issued_paid_with_no_ledger_amount():
    invoice = issued_invoice(specs=FREE_DAY)

    invoice.refresh_from_db()
    assert invoice.number and invoice.sequence_number == 1
    assert invoice.total.amount == Decimal("0.00")
    assert invoice.state == Invoice.State.PAID
    assert invoice.amount_due.amount == Decimal("0.00")
    assert not LedgerEntry.objects.filter(invoice=invoice).exists()
    call_command("reconcile")  # exits non-zero on a breach


@pytest.mark.parametrize("syntax", Syntax.values)
def test_a_zero_total_invoice_is_a_valid_e_invoice(syntax):
    invoice = issued_invoice(specs=FREE_DAY)

    report = validate(invoice_einvoice(invoice=invoice, syntax=syntax))

    assert report.valid, report.problems()


def test_a_zero_total_invoice_for_a_customer_holding_credit_spends_none_of_it():
    customer = CustomerFactory()
    paid = issued_invoice(customer=customer, paid="all")
    invoice_cancel(invoice=paid, actor=None, channel=Channel.CLI)  # the paid total is now credit

    invoice = issued_invoice(customer=customer, specs=FREE_DAY)

    assert invoice.payments.count() == 0
    assert invoice.state == Invoice.State.PAID
    call_command("reconcile")


def test_a_zero_total_invoice_has_nothing_to_cancel_and_changes_nothing():
    invoice = issued_invoice(specs=FREE_DAY)

    with pytest.raises(NothingLeftToCredit, match="total of zero"):
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    with pytest.raises(NothingLeftToCredit, match="total of zero"):
        credit_note_issue(
            invoice=invoice,
            lines=[LineCredit(invoice_line=invoice.lines.get().pk, quantity=Decimal("1"))],
            actor=None,
            channel=Channel.CLI,
        )

    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID
    assert not invoice.credit_notes.exists()


def test_the_admin_issues_a_zero_total_draft_instead_of_answering_500(admin_client):
    """The admin's Issue on a free day pass issues it: no ledger entry of zero is written
    (``ledger_kind_source_and_sign`` would refuse one), no 500, no draft left behind."""
    draft = draft_invoice(specs=FREE_DAY)

    response = admin_client.post(f"/admin/invoicing/invoice/{draft.pk}/issue/")

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == Invoice.State.PAID and draft.sequence_number == 1
    assert not LedgerEntry.objects.filter(invoice=draft).exists()
