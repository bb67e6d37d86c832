"""The invoice and credit-note lists page by cursor (keyset): walking the ``next`` links
returns every row once, in order, while rows are added between pages; ``previous`` walks
back; filters hold across pages; a cursor that is not one of ours is a 422 problem; the
former ``?page=`` still answers, marked deprecated; and the page query is an index range
(no sort, however deep the page)."""

import base64
import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.factories import draft_invoice, issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]

DAY_PASS = (("Day pass", "1", "20.00", "21"),)
START = datetime.date(2026, 1, 5)


def a_history(member, count: int) -> list[int]:
    """``count`` invoices on few dates (so ties on the date are the usual case), as the list
    orders them: newest date first, then highest id."""
    invoices = [
        issued_invoice(
            customer=member, specs=DAY_PASS, issue_date=START + datetime.timedelta(n // 4)
        )
        for n in range(count)
    ]
    return [i.pk for i in sorted(invoices, key=lambda i: (i.issue_date, i.pk), reverse=True)]


def walk(client, url: str, *, between=None) -> tuple[list[int], dict]:
    """Follow ``next`` from ``url``; ``between()`` runs before each following page."""
    seen, body = [], client.get(url).json()
    seen += [row["id"] for row in body["results"]]
    while body["next"]:
        if between:
            between()
        body = client.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    return seen, body


def test_every_invoice_once_in_order_while_invoices_are_issued_between_pages(api_client):
    member = portal_member()
    expected = a_history(member, 17)
    client = api_client(member.portal_user)
    added = []
    seen, last = walk(
        client,
        "/api/v1/invoices?page_size=5",
        between=lambda: added.append(issued_invoice(customer=member, specs=DAY_PASS).pk),
    )
    assert seen == expected  # no duplicate, no gap, the list's order
    assert "count" not in last and len(added) == 3
    # The new ones are newest: they open the list.
    first = client.get("/api/v1/invoices?page_size=5").json()
    assert [row["id"] for row in first["results"]][:3] == added[::-1]
    assert first["previous"] is None


def test_previous_walks_back_page_by_page(api_client):
    member = portal_member()
    expected = a_history(member, 11)
    client = api_client(member.portal_user)
    pages = [client.get("/api/v1/invoices?page_size=4").json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    assert [len(page["results"]) for page in pages] == [4, 4, 3]
    back = client.get(pages[-1]["previous"]).json()
    assert back["results"] == pages[1]["results"]
    back = client.get(back["previous"]).json()
    assert back["results"] == pages[0]["results"] and back["previous"] is None
    assert client.get(back["next"]).json()["results"] == pages[1]["results"]
    assert [row["id"] for page in pages for row in page["results"]] == expected


def test_staff_list_walks_drafts_first_then_issued(api_client):
    member = portal_member()
    issued = a_history(member, 5)
    drafts = [draft_invoice(customer=member, specs=DAY_PASS).pk for _ in range(3)]
    client = api_client(staff_user())
    seen, _last = walk(client, "/api/v1/invoices?page_size=2")
    assert seen == drafts[::-1] + issued
    # And back from the end over the drafts' boundary.
    pages = [client.get("/api/v1/invoices?page_size=2").json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(client.get(back[-1]["previous"]).json())
    assert [row["id"] for page in back[::-1] for row in page["results"]] == seen


def test_filters_hold_on_every_page(api_client):
    member = portal_member()
    history = a_history(member, 9)
    cancelled = [pk for pk in history if pk % 2]
    for pk in cancelled:
        invoice_cancel(invoice=pk, actor=None, channel=Channel.SYSTEM)
    client = api_client(member.portal_user)
    seen, _last = walk(client, "/api/v1/invoices?state=cancelled&page_size=2")
    assert seen == cancelled
    late = START + datetime.timedelta(1)
    seen, _last = walk(client, f"/api/v1/invoices?issued_to={late}&page_size=3")
    assert seen == history[-8:]


def test_credit_notes_walk_once_each(api_client):
    member = portal_member()
    notes = [
        invoice_cancel(invoice=pk, actor=None, channel=Channel.SYSTEM).pk
        for pk in a_history(member, 7)
    ]
    client = api_client(member.portal_user)
    seen, _last = walk(client, "/api/v1/credit-notes?page_size=3")
    assert sorted(seen) == sorted(notes) and len(seen) == len(set(seen))


def _token(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "%C3%A9",  # not base64
        "e30",  # {}
        _token({"p": ["2026-01-05"], "b": False}),  # too short
        _token({"p": ["yesterday", 1], "b": False}),
        _token({"p": ["2026-01-05", 10**30], "b": False}),  # beyond bigint
        _token({"p": ["2026-01-05", None], "b": False}),
        _token({"p": ["2026-01-05", 1], "b": "yes"}),
        _token([1, 2]),
    ],
)
def test_a_cursor_that_is_not_ours_is_a_422_problem(api_client, cursor):
    member = portal_member()
    issued_invoice(customer=member, specs=DAY_PASS)
    client = api_client(member.portal_user)
    for path in ("/api/v1/invoices", "/api/v1/credit-notes"):
        body = assert_problem(client.get(f"{path}?cursor={cursor}"), 422, "invalid_input")
        assert [error["field"] for error in body["errors"]] == ["cursor"]


def test_the_former_page_parameter_still_answers_with_count_and_says_it_is_deprecated(
    api_client,
):
    member = portal_member()
    history = a_history(member, 5)
    client = api_client(member.portal_user)
    response = client.get("/api/v1/invoices?page=2&page_size=2")
    assert response["Deprecation"] == "true"
    body = response.json()
    assert body["count"] == 5 and [row["id"] for row in body["results"]] == history[2:4]
    assert "page=3" in body["next"]
    assert_problem(client.get("/api/v1/invoices?page=9"), 404)
    assert "Deprecation" not in client.get("/api/v1/invoices").headers


def _page_plan(client, url: str, table: str) -> str:
    """The plan of the list's page query, sequential scans off: what the indexes allow."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    (page,) = [
        q["sql"]
        for q in queries.captured_queries
        if f'FROM "{table}"' in q["sql"] and "ORDER BY" in q["sql"] and "LIMIT" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # A few rows cost the same sorted or not: ask what the indexes allow, not what the
        # planner picks for a table of three rows.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    "user, path, index",
    [
        ("member", "/api/v1/invoices", "invoice_customer_keyset"),
        ("staff", "/api/v1/invoices", "invoice_keyset"),
        ("member", "/api/v1/credit-notes", "credit_note_customer_keyset"),
        ("staff", "/api/v1/credit-notes", "credit_note_keyset"),
    ],
)
def test_a_deep_page_is_an_index_range_without_a_sort(api_client, user, path, index):
    member = portal_member()
    for pk in a_history(member, 3):
        invoice_cancel(invoice=pk, actor=None, channel=Channel.SYSTEM)
    client = api_client(member.portal_user if user == "member" else staff_user())
    second = client.get(f"{path}?page_size=1").json()["next"]
    table = "invoicing_invoice" if "invoices" in path else "credits_creditnote"
    plan = _page_plan(client, second, table)
    assert index in plan and "Sort" not in plan, plan
