"""The admin pages read the page they show, not the table or the customer's history: each
query of the page is run under ``EXPLAIN ANALYZE`` (sequential scans off, as on a large
table) and counted in rows read. The unfiltered invoice and credit note lists keep their
date hierarchy, drawn from the date's index (``coworking/templatetags/admin_dates.py``); the
customer page's ledger keeps its running balance (``coworking.selectors``)."""

import datetime
import json

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from coworking.models import LedgerEntry
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


def rows_read(plan: dict, table: str, *, per_loop: bool) -> int:
    """The rows the scans of ``table`` in the plan read (returned and filtered out), the
    most of any scan: in all or, ``per_loop``, each time it runs."""
    found = [rows_read(child, table, per_loop=per_loop) for child in plan.get("Plans", [])]
    if plan.get("Relation Name") == table:
        read = plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
        found.append(read if per_loop else read * plan.get("Actual Loops", 1))
    return max(found, default=0)


def most_rows_read(client, url: str, table: str, *, per_loop=False) -> tuple[int, str, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    worst = (0, "")
    # The plans follow the table's statistics: fresh ones of what this test wrote, not those
    # autovacuum took while an earlier test filled the table. On a test's few rows the
    # planner may rather sort than walk an index; with both off it takes the index path
    # where there is one, which is what a big table gets.
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
        cursor.execute("SET enable_seqscan = off; SET enable_sort = off")
        try:
            for query in captured.captured_queries:
                sql = query["sql"]
                if table not in sql or not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                worst = max(worst, (rows_read(plan[0]["Plan"], table, per_loop=per_loop), sql))
        finally:
            cursor.execute("SET enable_seqscan = on; SET enable_sort = on")
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


@pytest.fixture
def ledger(monkeypatch):
    """A customer with 23 ledger entries (EUR invoices, credit notes and a payment, GBP
    invoices), shown five a page."""
    customer = CustomerFactory()
    for n in range(8):
        invoice = issued_invoice(customer=customer, paid="all" if n == 7 else None)
        if n % 2:
            invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    for _ in range(10):
        issued_invoice(customer=customer, currency="GBP", specs=[("Desk", "1", "10.00", "0")])
    monkeypatch.setattr("coworking.admin.LEDGER_PAGE_SIZE", LEDGER_PAGE)
    return customer


LEDGER_PAGE = 5


def window_nodes(plan: dict) -> list[str]:
    found = [name for child in plan.get("Plans", []) for name in window_nodes(child)]
    return found + ([plan["Node Type"]] if plan.get("Node Type") == "WindowAgg" else [])


def test_the_customer_page_reads_its_ledger_page_not_the_history(client, ledger):
    """The ledger's query asks for one page (and one more row) and computes no window over
    the customer's history: each row's running balance is the balance row less the
    entries above it. (How many rows each scan reads follows the planner's statistics,
    which a test's few rows do not fix; the benchmark measures it on a big customer.)"""
    client.force_login(staff_user())
    url = f"/admin/coworking/customer/{ledger.pk}/change/"
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    ledger_queries = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "coworking_ledgerentry"' in query["sql"] and "running_balance" in query["sql"]
    ]
    assert len(ledger_queries) == 1
    (sql,) = ledger_queries
    assert sql.rstrip().endswith(f"LIMIT {LEDGER_PAGE + 1}")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert window_nodes(plan[0]["Plan"]) == [], sql
    assert LedgerEntry.objects.filter(customer=ledger).count() > 4 * LEDGER_PAGE


def test_the_running_balances_are_the_ledger_summed_in_its_order(client, ledger):
    client.force_login(staff_user())
    url = f"/admin/coworking/customer/{ledger.pk}/change/"
    expected, totals = {}, {}
    for entry in LedgerEntry.objects.filter(customer=ledger).order_by(
        "document_date", "created_at", "id"
    ):
        currency = entry.amount_currency
        totals[currency] = totals.get(currency, 0) + entry.amount.amount
        expected[entry.pk] = Money(totals[currency], currency)
    shown = {}
    for page in range(1, 6):
        response = client.get(url, {"ledger_page": page})
        rows = response.context["account"]["ledger"]["entries"]
        assert len(rows) == (LEDGER_PAGE if page < 5 else len(expected) - 4 * LEDGER_PAGE)
        shown |= {row["entry"].pk: row["balance"] for row in rows}
    assert shown == expected
    assert ("?ledger_page=6" in response.content.decode()) is False
