"""The customer page: balance per currency and the ledger, newest first, paginated."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from coworking.admin import LEDGER_PAGE_SIZE
from coworking.models import LedgerEntry
from credits.services import invoice_cancel, refund_record
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
    assert "Page 1<" in first and "?ledger_page=2" in first
    assert "Page 2<" in second and "?ledger_page=1" in second
    assert "?ledger_page=3" not in second  # the last page: no older one
    assert len(first_queries) == len(second_queries)  # 25 rows or 5: no per-entry query
    assert "ledgerentry_set" not in first  # no inline loading every entry


def test_the_customer_page_is_an_account_view(client):
    """Balance and available credit apart, per currency; refunds and credit applied to
    invoices visible; the location read-only and no Delete once the customer has documents."""
    customer = CustomerFactory()
    paid = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")], paid="all")
    invoice_cancel(invoice=paid, actor=None, channel=Channel.SYSTEM)  # 100.00 of credit
    refund_record(
        customer=customer,
        amount=Money("30.00", "EUR"),
        actor=None,
        channel=Channel.ADMIN,
        reference="TRF-7",
    )
    # Issuing applies 25.00 of the 70.00 left.
    applied = issued_invoice(customer=customer, specs=[("Day pass", "1", "25.00", "0")])
    issued_invoice(customer=customer, currency="GBP", specs=[("Desk", "1", "10.00", "0")])
    client.force_login(staff_user(is_superuser=True))

    html = client.get(
        reverse("admin:coworking_customer_change", args=[customer.pk])
    ).content.decode()

    # Balance: 100 - 100 - 100 + 30 + 25 = -45.00 (45.00 of credit held); available: 45.00.
    assert re.search(r'class="balance" data-currency="EUR"><span class="money"[^>]*>-€45.00<', html)
    assert re.search(
        r'class="available-credit" data-currency="EUR"><span class="money"[^>]*>€45.00<', html
    )
    assert re.search(
        r'class="available-credit" data-currency="GBP"><span class="money"[^>]*>£0.00<', html
    )
    refund_row = re.search(r'<tr data-entry="\d+" class="ledger-refund">(.*?)</tr>', html, re.S)
    assert refund_row and "TRF-7" in refund_row.group(1) and "€30.00" in refund_row.group(1)
    # Credit applied moves no balance (no entry of its own): shown on the invoice's entry.
    rows = re.findall(r'<tr data-entry="\d+" class="ledger-invoice">(.*?)</tr>', html, re.S)
    (applied_row,) = [row for row in rows if applied.number in row]
    assert re.search(r'account credit applied: <span class="money"[^>]*>€25.00<', applied_row)
    assert sum("account credit applied" in row for row in rows) == 1
    assert 'name="location"' not in html  # read-only
    assert "deletelink" not in html
    assert html.index('id="account"') < html.index('id="customer_form"')


def test_a_customer_without_documents_can_still_be_deleted_and_edited(client):
    customer = CustomerFactory()
    client.force_login(staff_user(is_superuser=True))
    html = client.get(
        reverse("admin:coworking_customer_change", args=[customer.pk])
    ).content.decode()
    assert "deletelink" in html
    assert 'name="billing_name"' in html


def test_the_customer_page_reads_the_customer_once(client):
    client.force_login(staff_user())
    customer = CustomerFactory()
    url = reverse("admin:coworking_customer_change", args=[customer.pk])
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    reads = [
        query["sql"]
        for query in captured.captured_queries
        if re.search(r'FROM "coworking_customer" .*WHERE "coworking_customer"."id" =', query["sql"])
    ]
    assert len(reads) == 1, reads
