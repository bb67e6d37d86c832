"""The invoice changelist runs the same number of queries whatever the number of rows shown
(no per-row query, the actions and credit-note columns included), and never a full COUNT of
a huge table; so does the customer list with its balance and available-credit columns."""

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coworking.models import Customer
from credits.policies import cancel_refusal
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    draft_invoice,
    issued_invoice,
    staff_user,
)
from tests.helpers import rows_for_the_module

# The invoices and credit notes are made once for the module (``rows_for_the_module``).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("changelist_queries")]

CHANGELIST = reverse("admin:invoicing_invoice_changelist")
CUSTOMERS = reverse("admin:coworking_customer_changelist")


@pytest.fixture(scope="module")
def many_invoices(django_db_setup, django_db_blocker):
    """105 invoices in every state, over two locations and several customers."""
    with rows_for_the_module(django_db_blocker):
        locations = [LocationFactory(), LocationFactory(default_currency="GBP")]
        customers = [CustomerFactory(location=locations[n % 2]) for n in range(6)]
        for n in range(105):
            customer = customers[n % len(customers)]
            if n % 10 == 0:
                draft_invoice(customer=customer)
                continue
            paid = {1: "all", 2: "10.00"}.get(n % 4)
            invoice = issued_invoice(customer=customer, paid=paid)
            if n % 3 == 0 and not paid:  # cancelling a paid one would create account
                # credit, which later issues apply automatically: "paid" would then not
                # mean paid.
                invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
        yield


@pytest.fixture(scope="module")
def many_credit_notes(django_db_setup, django_db_blocker):
    """55 credit notes of three customers, and 52 customers more."""
    with rows_for_the_module(django_db_blocker):
        customers = [CustomerFactory() for _ in range(3)]
        for n in range(55):
            invoice = issued_invoice(customer=customers[n % 3], specs=[("Desk", "1", "10.00", "0")])
            invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
        for _ in range(52):
            CustomerFactory()
        yield customers


def changelist_queries(client, query=""):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return response, [q["sql"] for q in captured.captured_queries]


def test_query_count_is_the_same_for_20_and_100_rows(client, many_invoices, monkeypatch):
    client.force_login(staff_user(cancel=True))
    model_admin = admin.site._registry[Invoice]
    client.get(CHANGELIST)  # warm the per-process caches (content types)
    counts = {}
    for per_page in (20, 100):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        response, queries = changelist_queries(client)
        rows = response.context["cl"].result_list
        assert len(rows) == per_page
        html = response.content.decode()
        # The columns that could cause per-row queries are really rendered.
        assert html.count('class="cancel-invoice-link"') == sum(
            cancel_refusal(invoice=r) is None for r in rows
        )
        assert len(re.findall(r"/admin/credits/creditnote/\d+/change/", html)) == sum(
            r.state == Invoice.State.CANCELLED for r in rows
        )
        counts[per_page] = len(queries)
        # Only the paginator's count: no second "full result" COUNT.
        assert sum("COUNT(" in sql.upper() for sql in queries) == 1
    assert counts[20] == counts[100], counts
    assert counts[100] <= 12, counts


def test_the_unfiltered_list_of_a_huge_table_uses_the_planner_estimate(
    client, many_invoices, monkeypatch
):
    client.force_login(staff_user(cancel=True))
    model_admin = admin.site._registry[Invoice]
    # Pretend 100 rows is huge; ANALYZE makes the planner's estimate exact.
    monkeypatch.setattr(model_admin.paginator, "estimate_above", 50)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE invoicing_invoice")

    response, queries = changelist_queries(client)
    assert not any("COUNT(" in sql.upper() for sql in queries)
    assert response.context["cl"].result_count == Invoice.objects.count()

    response, queries = changelist_queries(client, "?state__exact=issued")
    assert sum("COUNT(" in sql.upper() for sql in queries) == 1  # filtered: exact
    assert response.context["cl"].result_count == Invoice.objects.filter(state="issued").count()


def test_a_filtered_list_the_planner_expects_to_be_huge_is_estimated_and_says_about(
    client, many_invoices, monkeypatch
):
    """Counting a filter's matches reads each of them (a second for the issued invoices at
    a million): a filtered list above the threshold takes its plan's estimate, and says so;
    one under it is counted exactly."""
    client.force_login(staff_user(cancel=True))
    monkeypatch.setattr(admin.site._registry[Invoice].paginator, "estimate_above", 20)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE invoicing_invoice")
    issued = Invoice.objects.filter(state="issued").count()
    drafts = Invoice.objects.filter(state="draft").count()
    assert drafts < 20 < issued

    response, queries = changelist_queries(client, "?state__exact=issued")
    assert not any("COUNT(" in sql.upper() for sql in queries)
    cl = response.context["cl"]
    assert cl.paginator.estimated and issued / 2 < cl.result_count < issued * 2
    assert f"about {cl.result_count} invoices" in " ".join(response.content.decode().split())

    response, queries = changelist_queries(client, "?state__exact=draft")
    assert sum("COUNT(" in sql.upper() for sql in queries) == 1
    cl = response.context["cl"]
    assert not cl.paginator.estimated and cl.result_count == drafts
    assert "about" not in response.content.decode().split('class="paginator"')[1]


def test_the_customer_list_runs_the_same_queries_for_20_and_100_rows(client, monkeypatch):
    locations = [LocationFactory(), LocationFactory(default_currency="GBP")]
    for n in range(100):
        customer = CustomerFactory(location=locations[n % 2])
        if n % 10 == 0:  # some owe, some hold credit (a paid invoice cancelled)
            invoice = issued_invoice(customer=customer, paid="all" if n % 20 else None)
            if n % 20:
                invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    client.force_login(staff_user())
    model_admin = admin.site._registry[Customer]
    client.get(CUSTOMERS)  # warm the per-process caches (content types)
    counts = {}
    for per_page in (20, 100):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(CUSTOMERS)
        assert len(response.context["cl"].result_list) == per_page
        assert response.content.decode().count('class="field-available_credit_column"') == per_page
        counts[per_page] = len(captured)
    assert counts[20] == counts[100], counts
    assert counts[100] <= 8, counts


@pytest.mark.parametrize("model_name", ["creditnote", "customer"])
def test_the_credit_note_and_customer_lists_of_a_huge_table_use_the_planner_estimate(
    client, monkeypatch, many_credit_notes, model_name
):
    customers = many_credit_notes
    url = reverse(
        f"admin:{'credits' if model_name == 'creditnote' else 'coworking'}_{model_name}_changelist"
    )
    model_admin = next(
        a for m, a in admin.site._registry.items() if m._meta.model_name == model_name
    )
    client.force_login(staff_user())
    # Pretend 50 rows is huge; ANALYZE makes the planner's estimate exact.
    monkeypatch.setattr(model_admin.paginator, "estimate_above", 50)
    monkeypatch.setattr(model_admin, "list_per_page", 20)
    table = model_admin.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)
    assert response.context["cl"].result_count == model_admin.model.objects.count()
    assert len(response.context["cl"].result_list) == 20
    assert response.context["cl"].paginator.num_pages > 2

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url + f"?location__id__exact={customers[0].location_id}")
    assert response.status_code == 200
    assert sum("COUNT(" in q["sql"].upper() for q in captured.captured_queries) == 1  # exact
