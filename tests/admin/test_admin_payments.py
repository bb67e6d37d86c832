"""Recording a payment in the admin goes through payment_record; refusals are form errors."""

import uuid
from decimal import Decimal

import pytest

from coworking.models import LedgerEntry
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice, Payment
from tests.factories import UserFactory, issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_user(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def post_payment(client, invoice, amount, method="bank_transfer"):
    return client.post(
        "/admin/invoicing/payment/add/",
        {
            "invoice": invoice if isinstance(invoice, str) else invoice.number,
            "amount_0": amount,
            "amount_1": "EUR",
            "method": method,
            "received_on": "2026-11-20",
            "reference": "BANK-1",
            "submission_token": str(uuid.uuid4()),  # a freshly opened form's
        },
    )


def test_payment_is_recorded_through_the_service(admin_client_user):
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    response = post_payment(admin_client_user, invoice, "40.00")
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID
    assert LedgerEntry.objects.filter(
        kind="payment", payment__invoice=invoice
    ).get().amount.amount == Decimal("-40.00")


@pytest.mark.parametrize(
    ("amount", "method", "message"),
    [
        ("150.00", "bank_transfer", "is more than the"),
        ("10.00", "account_credit", "of account credit available"),
        ("0.00", "cash", "must be positive"),
    ],
)
def test_refused_payments_show_the_reason_and_write_nothing(
    admin_client_user, amount, method, message
):
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    response = post_payment(admin_client_user, invoice, amount, method)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payment.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.ISSUED


def test_the_invoice_is_chosen_by_its_number(admin_client_user):
    response = post_payment(admin_client_user, "NOPE-2026-000001", "10.00")
    assert response.status_code == 200
    assert "No issued invoice has this number." in response.content.decode()
    assert not Payment.objects.exists()


def test_record_payment_from_the_invoice_page_opens_the_form_on_its_number(admin_client_user):
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    page = admin_client_user.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    assert f"/admin/invoicing/payment/add/?invoice={invoice.number}" in page
    assert f"/api/v1/invoices/{invoice.pk}/pdf" in page
    form = admin_client_user.get(f"/admin/invoicing/payment/add/?invoice={invoice.number}")
    assert f'value="{invoice.number}"' in form.content.decode()


def test_issue_a_draft_from_its_page(admin_client_user):
    from tests.factories import draft_invoice

    draft = draft_invoice()
    page = admin_client_user.get(f"/admin/invoicing/invoice/{draft.pk}/change/").content.decode()
    assert f"/admin/invoicing/invoice/{draft.pk}/issue/" in page
    assert admin_client_user.get(f"/admin/invoicing/invoice/{draft.pk}/issue/").status_code == 403
    response = admin_client_user.post(f"/admin/invoicing/invoice/{draft.pk}/issue/", follow=True)
    draft.refresh_from_db()
    assert draft.state == Invoice.State.ISSUED and draft.number
    assert f"Issued invoice {draft.number}." in response.content.decode()


def test_staff_apply_account_credit_to_an_open_invoice(admin_client_user):
    open_invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    paid = issued_invoice(
        customer=open_invoice.customer, specs=[("Desk", "1", "30.00", "0")], paid="all"
    )
    invoice_cancel(invoice=paid, actor=None, channel=Channel.CLI)  # 30.00 of credit

    response = post_payment(admin_client_user, open_invoice, "30.00", "account_credit")

    assert response.status_code == 302
    open_invoice.refresh_from_db()
    assert (open_invoice.state, open_invoice.amount_due.amount) == ("partially_paid", 70)
    payment = Payment.objects.get(invoice=open_invoice)
    assert payment.method == "account_credit"
    assert not LedgerEntry.objects.filter(payment=payment).exists()  # credit moves no value
