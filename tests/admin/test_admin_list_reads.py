"""The unfiltered invoice and credit note lists read no more rows of their tables than the
page they show: each query of the page is run under ``EXPLAIN ANALYZE`` (sequential scans
off, as on a large table) and no scan of a document table may read the table whole. The
date hierarchy stays, drawn from the date's index (``coworking/templatetags/admin_dates.py``)."""

import datetime
import json

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coworking.pagination import LargeTablePaginator
from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import CustomerFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

DATES = [datetime.date(2024, 3, 4), datetime.date(2025, 6, 2), datetime.date(2025, 6, 9)]
PAGE = 2
MONTHS = ["January", "February", "March", "April", "May", "June"]


@pytest.fixture
def documents(monkeypatch):
    """Nine invoices over 2024-2025 (six cancelled: six credit notes), the lists shown
    two rows a page, and counted from the planner's estimate as a large table's are."""
    customer = CustomerFactory()
    for date in DATES:
        for n in range(3):
            invoice = issued_invoice(customer=customer, issue_date=date)
            if n < 2:
                invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    for model in (Invoice, CreditNote):
        monkeypatch.setattr(admin.site._registry[model], "list_per_page", PAGE)
    monkeypatch.setattr(LargeTablePaginator, "estimate_above", 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE invoicing_invoice, credits_creditnote")


def rows_read(plan: dict, table: str) -> int:
    """The rows each scan of ``table`` in the plan read (returned and filtered out), at most."""
    found = [rows_read(child, table) for child in plan.get("Plans", [])]
    if plan.get("Relation Name") == table:
        read = plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
        found.append(read * plan.get("Actual Loops", 1))
    return max(found, default=0)


def most_rows_read(client, url: str, table: str) -> tuple[int, str, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    worst = (0, "")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for query in captured.captured_queries:
                sql = query["sql"]
                if table not in sql or not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                worst = max(worst, (rows_read(plan[0]["Plan"], table), sql))
        finally:
            cursor.execute("SET enable_seqscan = on")
    return (*worst, response)


@pytest.mark.parametrize(
    "model, url",
    [(Invoice, "/admin/invoicing/invoice/"), (CreditNote, "/admin/credits/creditnote/")],
    ids=["invoices", "credit notes"],
)
def test_the_unfiltered_list_reads_only_its_page(client, documents, model, url):
    client.force_login(staff_user(cancel=True))
    table = model._meta.db_table
    total = model.objects.count()
    read, sql, response = most_rows_read(client, url, table)
    assert total > PAGE + 1
    assert read <= PAGE + 1, f"{read} of {total} rows read by\n{sql}"
    assert len(response.context["cl"].result_list) == PAGE


def hierarchy(response) -> list[str]:
    content = response.content.decode()
    start = content.index('<nav class="toplinks"')
    section = content[start : content.index("</nav>", start)]
    return [part.split("</a>")[0].rsplit(">", 1)[-1] for part in section.split("<a ")[1:]]


def test_the_date_hierarchy_offers_the_table_s_years_then_months(client, documents):
    client.force_login(staff_user(cancel=True))
    assert hierarchy(client.get("/admin/invoicing/invoice/")) == ["2024", "2025"]
    months = hierarchy(client.get("/admin/invoicing/invoice/?issue_date__year=2025"))
    # Up to the newest invoice's month.
    assert months == ["&lsaquo; All dates"] + [f"{m} 2025" for m in MONTHS]
    response = client.get("/admin/invoicing/invoice/?issue_date__year=2025&issue_date__month=6")
    assert hierarchy(response)[1:] == [f"{day} June" for day in range(1, 10)]
    assert response.context["cl"].result_count == 6
