"""Concurrent cancels through the API: real threads, each with its own database connection,
on committed data (``transaction=True``)."""

import threading
from collections import Counter

import pytest
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from coworking.models import IdempotencyKey, LedgerEntry
from credits.models import CancellationEvent, CreditNote
from invoicing.models import Invoice
from tests.factories import issued_invoice, portal_member, staff_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Straight to PostgreSQL and through PgBouncer in transaction mode.
    pytest.mark.usefixtures("fast_password_hasher", "reset_throttles", "database_route"),
]

THREADS = 20


def post_concurrently(*, url: str, token: str, key: str | None) -> list:
    """``THREADS`` requests released at once by a barrier; returns their responses."""
    barrier = threading.Barrier(THREADS)
    responses: list = [None] * THREADS
    errors: list = []

    def worker(index: int) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
            barrier.wait(timeout=30)
            responses[index] = client.post(url, {"reason": "race"}, format="json", **headers)
        except Exception as error:  # reported below: a thread must not fail silently
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(response is not None for response in responses)
    return responses


@pytest.fixture
def race():
    invoice = issued_invoice(customer=portal_member())
    token = Token.objects.create(user=staff_user()).key
    return invoice, token, f"/api/v1/invoices/{invoice.pk}/cancel"


def assert_cancelled_once(invoice) -> None:
    assert CreditNote.objects.filter(invoice=invoice).count() == 1
    assert CancellationEvent.objects.filter(invoice=invoice).count() == 1
    assert (
        LedgerEntry.objects.filter(document_number=invoice.number, kind="credit_note").count() == 1
    )
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.CANCELLED


def test_twenty_concurrent_requests_with_one_key_cancel_once(race):
    invoice, token, url = race
    responses = post_concurrently(url=url, token=token, key="one-key")
    statuses = Counter(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [response for response in responses if response.status_code == 201]
    assert created, statuses
    # Every 201 is the one response: the original or its replay, byte for byte.
    assert len({response.content for response in created}) == 1
    assert sum(1 for r in created if r.get("Idempotent-Replayed") != "true") == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_use"
    assert_cancelled_once(invoice)
    stored = IdempotencyKey.objects.get(key="one-key")
    assert (stored.status, stored.response_status) == ("completed", 201)


def test_twenty_concurrent_requests_without_key_one_201_rest_409(race):
    invoice, token, url = race
    responses = post_concurrently(url=url, token=token, key=None)
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: THREADS - 1}, statuses
    codes = {response.json()["code"] for response in responses if response.status_code == 409}
    assert codes == {"invoice_already_cancelled"}
    assert_cancelled_once(invoice)
    assert CreditNote.objects.get(invoice=invoice).number.endswith("-000001")
