"""Every filter and search the admin lists and the API offer on the tables that grow with
the business is answered by an index: the queries each one runs are explained with
sequential scans switched off (on a small test table the planner would otherwise always
read the table) and no plan may read a big table whole."""

import datetime
import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from coworking.models import Customer, LedgerEntry
from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice, Payment
from tests.factories import CustomerFactory, issued_invoice, portal_member, staff_user

pytestmark = pytest.mark.django_db

BIG_TABLES = {
    model._meta.db_table for model in (Invoice, CreditNote, Customer, Payment, LedgerEntry)
}
TODAY = datetime.date.today()

# Each admin list: the query strings of its filters (each list_filter at least once, with
# the date hierarchy) and one search.
ADMIN_LISTS = {
    Invoice: [
        "",
        "state__exact=issued",
        "overdue=yes",
        "customer={customer}",
        "location__id__exact={location}",
        "due_from=10",
        "currency__exact=EUR",
        f"issue_date__gte={TODAY:%Y-%m-01}&issue_date__lt={TODAY + datetime.timedelta(days=1)}",
        f"issue_date__year={TODAY.year}&issue_date__month={TODAY.month}",
        "q={invoice_number}",
        "q=Vries",
    ],
    CreditNote: [
        "",
        "location__id__exact={location}",
        f"issue_date__gte={TODAY:%Y-%m-01}&issue_date__lt={TODAY + datetime.timedelta(days=1)}",
        "pdf_status__exact=pending",
        f"issue_date__year={TODAY.year}",
        "q={invoice_number}",
    ],
    Customer: [
        "",
        "location__id__exact={location}",
        "kind__exact=business",
        "language__exact=nl",
        "q=Vries",
    ],
    Payment: [
        "",
        "method__exact=card",
        f"received_on__gte={TODAY:%Y-%m-01}&received_on__lt={TODAY + datetime.timedelta(days=1)}",
        "q={invoice_number}",
    ],
}
API_LISTS = [
    "/api/v1/invoices?state=issued",
    "/api/v1/invoices?currency=EUR",
    f"/api/v1/invoices?issued_from={TODAY}&issued_to={TODAY}",
    "/api/v1/invoices?page=1",
    "/api/v1/credit-notes",
    "/api/v1/customers/{customer}/ledger?currency=EUR",
]


@pytest.fixture
def documents():
    member = portal_member(billing_name="Marieke de Vries")
    location = member.location
    invoice = issued_invoice(customer=member, paid="10.00")
    cancelled = issued_invoice(customer=CustomerFactory(location=location))
    invoice_cancel(invoice=cancelled, actor=None, channel=Channel.SYSTEM)
    return {
        "member": member,
        "values": {
            "customer": member.pk,
            "location": location.pk,
            "invoice_number": invoice.number,
        },
    }


def full_scans(queries: list[str]) -> list[str]:
    """The plans, with sequential scans off, that still read a big table whole."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for sql in queries:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                for table in re.findall(r"Seq Scan on (\w+)", plan):
                    if table in BIG_TABLES:
                        found.append(f"{table}: {sql}\n{plan}")
        finally:
            cursor.execute("SET enable_seqscan = on")
    return found


def run(client, url: str, **headers) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.content[:300])
    return [query["sql"] for query in captured.captured_queries]


def test_the_listed_filters_are_every_filter_of_each_admin_list():
    """A filter added to an admin list without a line here fails: each one must be checked."""
    request = RequestFactory().get("/")
    request.user = staff_user(cancel=True)
    for model, queries in ADMIN_LISTS.items():
        model_admin = admin.site._registry[model]
        changelist = model_admin.get_changelist_instance(request)
        tested = "&".join(queries)
        for spec in changelist.filter_specs:
            assert any(
                re.search(rf"(^|&|\?){re.escape(parameter)}=", tested)
                for parameter in spec.expected_parameters()
            ), f"{model.__name__}: filter {spec.title} is not checked"
        assert model_admin.search_fields and any(q.startswith("q=") for q in queries)


@pytest.mark.parametrize("model", list(ADMIN_LISTS), ids=lambda m: m.__name__)
def test_no_admin_filter_or_search_reads_a_big_table_whole(client, documents, model):
    client.force_login(staff_user(cancel=True))
    meta = model._meta
    changelist = f"/admin/{meta.app_label}/{meta.model_name}/"
    scans = []
    for query in ADMIN_LISTS[model]:
        url = changelist + "?" + query.format(**documents["values"])
        scans += full_scans(run(client, url))
    assert not scans, "\n\n".join(scans)


def test_the_searches_find_what_django_search_finds(client, documents):
    """The index-shaped search (``IndexedSearchMixin``) finds the same rows."""
    client.force_login(staff_user(cancel=True))
    response = client.get("/admin/invoicing/invoice/?q=vries")
    assert response.context["cl"].result_count == 1
    number = documents["values"]["invoice_number"]
    response = client.get(f"/admin/invoicing/invoice/?q={number[-6:]} vries")
    assert [invoice.number for invoice in response.context["cl"].result_list] == [number]


def test_every_search_finds_the_rows_django_search_finds(documents):
    """One word or several, in one field or spread over several, quoted or not: the rows
    of the index-shaped search are those of Django's own (each word in some field)."""
    others = CustomerFactory(location=documents["member"].location, billing_name="Jan de Vries")
    for _ in range(3):
        issued_invoice(customer=others)
    number = documents["values"]["invoice_number"]
    model_admin = admin.site._registry[Invoice]
    request = RequestFactory().get("/")
    request.user = staff_user(cancel=True)
    searches = [
        "vries", "de vries", "marieke vries", "jan vries", f"{number[-6:]} vries",
        f"{number[-6:]} jan", '"de vries" jan', "vries nobody", number,
    ]  # fmt: skip
    found = {}
    for term in searches:
        queryset = model_admin.get_queryset(request)
        ours, _ = model_admin.get_search_results(request, queryset, term)
        django, _ = admin.ModelAdmin.get_search_results(model_admin, request, queryset, term)
        found[term] = sorted(ours.values_list("pk", flat=True))
        assert found[term] == sorted(django.values_list("pk", flat=True)), term
    assert [len(found[term]) for term in searches] == [4, 4, 1, 3, 1, 0, 3, 0, 1]
    # The words' matches are intersected in one subquery: one ``IN`` per word was planned
    # as a nested loop of one word's ids over the other's (seconds for a big customer).
    ours, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), "a b c")
    sql = str(ours.query)
    assert sql.count('"invoicing_invoice"."id" IN (') == 1 and sql.count("INTERSECT") == 2


def test_no_api_filter_reads_a_big_table_whole(client, documents):
    member = documents["member"]
    token = Token.objects.create(user=member.portal_user)
    staff = staff_user(cancel=True)
    staff_token = Token.objects.create(user=staff)
    scans = []
    for url in API_LISTS:
        url = url.format(**documents["values"])
        for key in (token.key, staff_token.key):
            if "customers" in url and key == staff_token.key:
                continue
            scans += full_scans(run(client, url, HTTP_AUTHORIZATION=f"Token {key}"))
    assert not scans, "\n\n".join(scans)
