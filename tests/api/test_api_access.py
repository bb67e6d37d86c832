"""Who sees what through the API: owner sees it, another member gets 404, anonymous 401,
staff per their permissions. Plus the read endpoints' contents, filters and pagination."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from coworking.selectors import customer_balance
from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.factories import (
    CustomerFactory,
    UserFactory,
    draft_invoice,
    issued_invoice,
    portal_member,
    staff_user,
)
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


@pytest.fixture
def world():
    """Two members of one location, an invoice and a credit note each; a draft of the first."""
    alice = portal_member()
    bob = portal_member(location=alice.location)
    alice_invoice = issued_invoice(customer=alice)
    alice_cancelled = issued_invoice(customer=alice, paid="50.00")
    alice_note = invoice_cancel(invoice=alice_cancelled, actor=None, channel=Channel.SYSTEM)
    bob_invoice = issued_invoice(customer=bob)
    bob_note = invoice_cancel(
        invoice=issued_invoice(customer=bob), actor=None, channel=Channel.SYSTEM
    )
    alice_draft = draft_invoice(customer=alice)
    return {
        "alice": alice,
        "bob": bob,
        "alice_invoice": alice_invoice,
        "alice_cancelled": alice_cancelled,
        "alice_note": alice_note,
        "alice_draft": alice_draft,
        "bob_invoice": bob_invoice,
        "bob_note": bob_note,
    }


def endpoints(world, owner: str):
    """Every read endpoint of ``owner``'s data (PDF downloads are in test_api_pdf)."""
    customer = world[owner]
    invoice = world[f"{owner}_invoice"]
    note = world[f"{owner}_note"]
    return {
        "invoice": f"/api/v1/invoices/{invoice.pk}",
        "credit-note": f"/api/v1/credit-notes/{note.pk}",
        "ledger": f"/api/v1/customers/{customer.pk}/ledger",
        "balance": f"/api/v1/customers/{customer.pk}/balance",
    }


@pytest.mark.parametrize("name", ["invoice", "credit-note", "ledger", "balance"])
def test_owner_sees_their_own(world, api_client, name):
    response = api_client(world["alice"].portal_user).get(endpoints(world, "alice")[name])
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("name", ["invoice", "credit-note", "ledger", "balance"])
def test_another_member_gets_404(world, api_client, name):
    response = api_client(world["bob"].portal_user).get(endpoints(world, "alice")[name])
    body = assert_problem(response, 404, "not_found")
    assert "alice" not in response.content.decode().lower()
    assert body["title"] == "Not found"


@pytest.mark.parametrize("name", ["invoice", "credit-note", "ledger", "balance"])
def test_anonymous_gets_401(world, api_client, name):
    response = api_client(None).get(endpoints(world, "alice")[name])
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("name", ["invoice", "credit-note", "ledger", "balance"])
def test_staff_with_view_permissions_see_any_customer(world, api_client, name):
    response = api_client(staff_user(cancel=False)).get(endpoints(world, "bob")[name])
    assert response.status_code == 200, response.content
    body, bob = response.json(), world["bob"]
    seen = {
        "invoice": lambda: (body["id"], body["number"]),
        "credit-note": lambda: (body["id"], body["number"]),
        "ledger": lambda: sorted(row["kind"] for row in body["results"]),
        "balance": lambda: (body["customer"], body["balances"]),
    }[name]()
    assert (
        seen
        == {
            "invoice": (world["bob_invoice"].pk, world["bob_invoice"].number),
            "credit-note": (world["bob_note"].pk, world["bob_note"].number),
            "ledger": ["credit_note", "invoice", "invoice"],  # bob's own rows, not alice's four
            "balance": (
                bob.pk,
                [
                    {"currency": currency, "amount": str(money.amount)}
                    for currency, money in customer_balance(customer=bob).items()
                ],
            ),
        }[name]
    )


@pytest.mark.parametrize("name", ["invoice", "credit-note", "ledger", "balance"])
def test_user_without_customer_or_permission_gets_404(world, api_client, name):
    response = api_client(UserFactory(is_staff=True)).get(endpoints(world, "alice")[name])
    assert_problem(response, 404, "not_found")


def test_bad_token_gets_401(api_client):
    client = api_client(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_problem(client.get("/api/v1/invoices"), 401, "authentication_failed")


def test_lists_are_scoped_to_the_member(world, api_client):
    client = api_client(world["alice"].portal_user)
    invoices = client.get("/api/v1/invoices").json()
    assert {row["id"] for row in invoices["results"]} == {
        world["alice_invoice"].pk,
        world["alice_cancelled"].pk,
    }  # not bob's, not the draft
    notes = client.get("/api/v1/credit-notes").json()
    assert [row["number"] for row in notes["results"]] == [world["alice_note"].number]


def test_staff_list_includes_drafts_and_every_customer(world, api_client):
    invoices = api_client(staff_user(cancel=False)).get("/api/v1/invoices?page_size=200").json()
    rows = {row["id"]: row for row in invoices["results"]}
    assert {world["alice_draft"].pk, world["bob_invoice"].pk, world["alice_invoice"].pk} <= set(
        rows
    )
    # A draft shows the totals of its lines, marked as not final.
    draft, issued = rows[world["alice_draft"].pk], rows[world["alice_invoice"].pk]
    assert (draft["total"], draft["totals_final"]) == ("501.65", False)
    assert (issued["total"], issued["totals_final"]) == ("501.65", True)


def test_member_cannot_see_their_own_draft(world, api_client):
    response = api_client(world["alice"].portal_user).get(
        f"/api/v1/invoices/{world['alice_draft'].pk}"
    )
    assert_problem(response, 404)


def test_invoice_detail_has_lines_payments_and_credit_note(world, api_client):
    invoice = world["alice_cancelled"]
    body = api_client(world["alice"].portal_user).get(f"/api/v1/invoices/{invoice.pk}").json()
    assert body["number"] == invoice.number
    assert body["state"] == "cancelled"
    assert body["total"] == str(invoice.total.amount)
    assert body["amount_paid"] == "50.00"
    assert [line["description"] for line in body["lines"]] == [
        line.description for line in invoice.lines.all()
    ]
    assert [payment["amount"] for payment in body["payments"]] == ["50.00"]
    assert body["credit_note"]["number"] == world["alice_note"].number
    assert body["cancellation"]["channel"] == "system"
    assert body["pdf_url"].endswith(f"/api/v1/invoices/{invoice.pk}/pdf")


def test_credit_note_detail_mirrors_the_invoice(world, api_client):
    note = world["alice_note"]
    body = api_client(world["alice"].portal_user).get(f"/api/v1/credit-notes/{note.pk}").json()
    assert body["number"] == note.number
    assert body["invoice_number"] == world["alice_cancelled"].number
    assert Decimal(body["total"]) == -world["alice_cancelled"].total.amount
    assert [Decimal(line["quantity"]) for line in body["lines"]] == [
        -line.quantity for line in world["alice_cancelled"].lines.all()
    ]
    assert body["pdf_status"] == "pending"
    assert body["pdf_url"].endswith(f"/api/v1/credit-notes/{note.pk}/pdf")


def test_ledger_and_balance_match_the_selectors(world, api_client):
    alice = world["alice"]
    client = api_client(alice.portal_user)
    ledger = client.get(f"/api/v1/customers/{alice.pk}/ledger").json()
    kinds = sorted(row["kind"] for row in ledger["results"])
    assert kinds == ["credit_note", "invoice", "invoice", "payment"]
    assert ledger["count"] == 4
    balance = client.get(f"/api/v1/customers/{alice.pk}/balance").json()
    expected = customer_balance(customer=alice)
    assert balance == {
        "customer": alice.pk,
        "balances": [
            {"currency": currency, "amount": str(money.amount)}
            for currency, money in expected.items()
        ],
    }
    assert client.get(f"/api/v1/customers/{alice.pk}/ledger?currency=GBP").json()["count"] == 0


def test_invoice_filters(world, api_client):
    client = api_client(world["alice"].portal_user)
    cancelled = client.get("/api/v1/invoices?state=cancelled").json()["results"]
    assert [row["id"] for row in cancelled] == [world["alice_cancelled"].pk]
    today = world["alice_invoice"].issue_date
    tomorrow = today + datetime.timedelta(days=1)
    assert client.get(f"/api/v1/invoices?issued_from={tomorrow}").json()["results"] == []
    assert (
        len(client.get(f"/api/v1/invoices?issued_to={today}&currency=EUR").json()["results"]) == 2
    )
    assert client.get("/api/v1/invoices?currency=USD").json()["results"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("state=nonsense", "state"),
        ("currency=XXX", "currency"),
        ("issued_from=yesterday", "issued_from"),
        ("issued_from=2026-02-01&issued_to=2026-01-01", "issued_to"),
    ],
)
def test_invalid_filters_are_422_problems(world, api_client, query, field):
    response = api_client(world["alice"].portal_user).get(f"/api/v1/invoices?{query}")
    body = assert_problem(response, 422, "invalid_input")
    assert [error["field"] for error in body["errors"]] == [field]


def test_pagination_50_a_page(api_client):
    member = portal_member()
    for _ in range(52):
        issued_invoice(customer=member, specs=(("Day pass", "1", "20.00", "21"),))
    client = api_client(member.portal_user)
    first = client.get("/api/v1/invoices").json()
    assert len(first["results"]) == 50 and "cursor=" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert not {row["id"] for row in first["results"]} & {row["id"] for row in second["results"]}
    assert len(client.get("/api/v1/invoices?page_size=10").json()["results"]) == 10
    assert_problem(client.get("/api/v1/invoices?page=9"), 404)


def test_list_query_count_does_not_grow_with_rows(api_client, django_assert_max_num_queries):
    member = portal_member()
    client = api_client(member.portal_user)
    issued_invoice(customer=member)
    client.get("/api/v1/invoices")  # warm up (token lookup etc. are per request anyway)
    with django_assert_max_num_queries(8) as few:
        client.get("/api/v1/invoices")
    for _ in range(5):
        invoice_cancel(invoice=issued_invoice(customer=member), actor=None, channel="system")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/invoices")
    assert len(response.json()["results"]) == 6


def test_me(world, api_client):
    alice = world["alice"]
    body = api_client(alice.portal_user).get("/api/v1/me").json()
    assert body["username"] == alice.portal_user.username
    assert body["customer"]["id"] == alice.pk
    assert body["customer"]["members_may_cancel"] is False
    assert api_client(staff_user()).get("/api/v1/me").json()["customer"] is None
    assert_problem(api_client(None).get("/api/v1/me"), 401)


def test_session_authentication_for_browsing(world, client):
    client.force_login(world["alice"].portal_user)
    response = client.get("/api/v1/invoices", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert world["alice_invoice"].number in response.content.decode()


def test_drf_errors_are_problems(world, api_client):
    client = api_client(world["alice"].portal_user)
    assert_problem(client.delete(f"/api/v1/invoices/{world['alice_invoice'].pk}"), 405)
    assert_problem(client.get("/api/v1/invoices/not-a-number"), 404, "not_found")
    assert_problem(client.get("/api/v1/invoices/99999999999999999999999"), 404, "not_found")
    assert_problem(client.get("/api/v1/no-such-endpoint"), 404, "not_found")
    assert_problem(client.get("/api/v1/invoices", HTTP_ACCEPT="application/xml"), 406)


def test_staff_need_the_model_permission_per_resource(world, api_client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_creditnote"))
    client = api_client(user)
    response = client.get(f"/api/v1/credit-notes/{world['bob_note'].pk}")
    assert response.status_code == 200 and response.json()["number"] == world["bob_note"].number
    assert_problem(client.get(f"/api/v1/invoices/{world['bob_invoice'].pk}"), 404)


def test_create_api_token_command(capsys):
    user = UserFactory()
    call_command("create_api_token", user.username)
    key = capsys.readouterr().out.strip()
    assert len(key) == 40 and user.auth_token.key == key
    call_command("create_api_token", user.username)
    assert capsys.readouterr().out.strip() == key
    call_command("create_api_token", user.username, "--rotate")
    assert capsys.readouterr().out.strip() not in ("", key)


def test_other_location_member_sees_nothing_of_this_location(world, api_client):
    stranger = CustomerFactory(portal_user=UserFactory())
    client = api_client(stranger.portal_user)
    assert client.get("/api/v1/invoices").json()["results"] == []
    assert client.get("/api/v1/credit-notes").json()["results"] == []
