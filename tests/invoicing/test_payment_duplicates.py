"""A bank transfer is recorded once: the admin's Record payment form carries a one-time
token (a double submit, at once or one after the other, records one payment), and a second
payment with the same bank reference on the same invoice is refused by ``payment_record``
unless staff confirm it is another transfer."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from djmoney.money import Money

from invoicing.errors import DuplicatePaymentReference
from invoicing.models import Payment
from invoicing.services import payment_record
from tests.concurrency import run_in_threads
from tests.factories import UserFactory, issued_invoice

pytestmark = pytest.mark.reconciled  # each test ends with reconcile (conftest)

ADD_URL = "/admin/invoicing/payment/add/"


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submission_token(client: Client) -> str:
    """The one-time token of a freshly opened Record payment form."""
    page = client.get(ADD_URL).content.decode()
    match = re.search(r'name="submission_token" value="([^"]+)"', page)
    assert match, "the Record payment form carries no one-time token"
    return match.group(1)


def payment_form(invoice, *, token: str, reference="BANK-2026-0042", amount="40.00", **extra):
    return {
        "invoice": invoice.number,
        "amount_0": amount,
        "amount_1": "EUR",
        "method": "bank_transfer",
        "received_on": "2026-11-20",
        "reference": reference,
        "submission_token": token,
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_at_once_records_one_payment():
    staff = UserFactory(is_staff=True, is_superuser=True)
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    token = submission_token(logged_in_client(staff))
    data = payment_form(invoice, token=token, reference="")  # the token alone guards

    clients = [logged_in_client(staff) for _ in range(2)]
    results = run_in_threads([lambda c=c: c.post(ADD_URL, data) for c in clients], threads=2)

    assert not [r for r in results if isinstance(r, Exception)]
    assert Payment.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == eur("40.00")


@pytest.mark.django_db
def test_a_sequential_resubmit_records_one_payment_and_says_so(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    data = payment_form(invoice, token=submission_token(client), reference="")

    first = client.post(ADD_URL, data)
    assert first.status_code == 302
    again = client.post(ADD_URL, data, follow=True)

    assert Payment.objects.filter(invoice=invoice).count() == 1
    text = again.content.decode()
    assert "already recorded" in text and "nothing was recorded again" in text
    invoice.refresh_from_db()
    assert invoice.amount_paid == eur("40.00")


@pytest.mark.django_db
def test_a_post_without_the_forms_token_records_nothing(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    data = payment_form(invoice, token="")
    response = client.post(ADD_URL, data)
    assert response.status_code == 200
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_the_same_bank_reference_twice_is_refused_then_recorded_when_confirmed(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    client.post(ADD_URL, payment_form(invoice, token=submission_token(client)))

    # A new form (another token), the same transfer typed in again.
    data = payment_form(invoice, token=submission_token(client), reference=" bank-2026-0042 ")
    refused = client.post(ADD_URL, data)
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "already has a payment with bank reference" in page
    assert 'name="confirm_same_reference"' in page
    assert Payment.objects.filter(invoice=invoice).count() == 1

    confirmed = client.post(ADD_URL, {**data, "confirm_same_reference": "on"})
    assert confirmed.status_code == 302
    assert Payment.objects.filter(invoice=invoice).count() == 2
    invoice.refresh_from_db()
    assert invoice.amount_paid == eur("80.00")


@pytest.mark.django_db
def test_the_service_refuses_a_second_payment_with_the_same_reference_unless_confirmed():
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    other = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    payment_record(invoice=invoice, amount=eur("30.00"), reference="TRX 77")

    with pytest.raises(DuplicatePaymentReference) as refused:
        payment_record(invoice=invoice, amount=eur("30.00"), reference="trx77")
    assert refused.value.code == "payment_reference_duplicate"
    assert Payment.objects.filter(invoice=invoice).count() == 1

    payment_record(invoice=other, amount=eur("30.00"), reference="TRX 77")  # another invoice
    payment_record(invoice=invoice, amount=eur("10.00"), reference="")  # no reference: cash
    payment_record(
        invoice=invoice, amount=eur("30.00"), reference="TRX 77", confirm_same_reference=True
    )
    assert Payment.objects.filter(invoice=invoice).count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_payments_with_the_same_reference_at_once_record_one():
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    results = run_in_threads(
        [lambda: payment_record(invoice=invoice, amount=eur("30.00"), reference="TRX 9")] * 2,
        threads=2,
    )
    assert sorted(type(r).__name__ for r in results) == ["DuplicatePaymentReference", "Payment"]
    assert Payment.objects.filter(invoice=invoice).count() == 1
