"""The customer page: balance per currency and the ledger, newest first, paginated."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coworking.admin import LEDGER_PAGE_SIZE
from coworking.models import LedgerEntry
from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.factories import CustomerFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    """30 ledger entries in two currencies: 12 EUR debits, 12 EUR credit notes (one of
    them on a paid invoice: 501.65 of credit held), 1 payment, 5 GBP debits."""
    customer = CustomerFactory()
    for n in range(12):
        invoice = issued_invoice(customer=customer, paid="all" if n == 11 else None)
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    for _ in range(5):
        issued_invoice(customer=customer, currency="GBP", specs=[("Desk", "1", "10.00", "0")])
    return customer


def entry_ids(html):
    return [int(pk) for pk in re.findall(r'data-entry="(\d+)"', html)]


def test_balance_per_currency_and_ledger_pages_newest_first(client, customer):
    client.force_login(staff_user())
    url = reverse("admin:coworking_customer_change", args=[customer.pk])
    newest_first = list(
        LedgerEntry.objects.filter(customer=customer)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    assert len(newest_first) == 30

    client.get(url)  # warm the per-process caches (content types)
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as second_queries:
        second = client.get(url, {"ledger_page": 2}).content.decode()

    assert re.search(r'data-currency="EUR"><span class="money"[^>]*>-€501.65</span>', first)
    assert re.search(r'data-currency="GBP"><span class="money"[^>]*>£50.00</span>', first)
    assert entry_ids(first) == newest_first[:LEDGER_PAGE_SIZE]
    assert entry_ids(second) == newest_first[LEDGER_PAGE_SIZE:]
    assert "Page 1 of 2 (30 entries)" in first and "?ledger_page=2" in first
    assert "Page 2 of 2 (30 entries)" in second and "?ledger_page=1" in second
    assert len(first_queries) == len(second_queries)  # 25 rows or 5: no per-entry query
    assert "ledgerentry_set" not in first  # no inline loading every entry
