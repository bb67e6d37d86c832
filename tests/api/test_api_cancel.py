"""POST /api/v1/invoices/{id}/cancel: who may, what it returns, idempotency, bad input."""

import datetime
import json
from contextlib import contextmanager

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coworking.api.throttling import SlidingWindowThrottle
from coworking.models import IdempotencyKey, LedgerEntry
from coworking.selectors import customer_balance
from credits.models import CancellationEvent, CreditNote, Refund
from invoicing.models import Invoice
from invoicing.selectors import available_credit
from tests.factories import issued_invoice, portal_member, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def cancel_url(invoice) -> str:
    return f"/api/v1/invoices/{invoice.pk}/cancel"


def counts() -> tuple[int, int, int, int]:
    return (
        CreditNote.objects.count(),
        LedgerEntry.objects.count(),
        CancellationEvent.objects.count(),
        Invoice.objects.filter(state=Invoice.State.CANCELLED).count(),
    )


def post(client, url, body=None, key=None, **extra):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, body if body is not None else {}, format="json", **extra)


@pytest.fixture
def invoice():
    return issued_invoice(customer=portal_member())


def test_staff_cancel_returns_201_with_the_credit_note(api_client, invoice):
    user = staff_user()
    response = post(api_client(user), cancel_url(invoice), {"reason": "Booked twice"})
    assert response.status_code == 201, response.content
    body = response.json()
    note = CreditNote.objects.get(invoice=invoice)
    assert body["number"] == note.number
    assert body["total"] == str(-invoice.total.amount)
    assert body["net_total"] == str(-invoice.net_total.amount)
    assert len(body["lines"]) == invoice.lines.count()
    assert body["pdf_url"].endswith(f"/api/v1/credit-notes/{note.pk}/pdf")
    assert response["Location"] == body["url"]
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED
    assert invoice.cancellation_channel == "api"
    assert invoice.cancelled_by == user
    assert invoice.cancellation_reason == "Booked twice"


def test_reason_is_optional_and_an_empty_body_is_fine(api_client, invoice):
    response = api_client(staff_user()).post(cancel_url(invoice))
    assert response.status_code == 201, response.content
    assert response.json()["reason"] == ""


def test_second_cancel_without_key_is_409_already_cancelled(api_client, invoice):
    client = api_client(staff_user())
    assert post(client, cancel_url(invoice)).status_code == 201
    before = counts()
    assert_problem(post(client, cancel_url(invoice)), 409, "invoice_already_cancelled")
    assert counts() == before


def test_staff_without_cancel_permission_gets_403(api_client, invoice):
    response = post(api_client(staff_user(cancel=False)), cancel_url(invoice))
    assert_problem(response, 403, "cancel_not_allowed")
    assert counts() == (0, 1, 0, 0)


def test_anonymous_gets_401(api_client, invoice):
    assert_problem(post(api_client(None), cancel_url(invoice)), 401)
    assert counts() == (0, 1, 0, 0)


def test_another_member_gets_404_even_where_members_may_cancel(api_client):
    owner = portal_member(members_may_cancel=True)
    other = portal_member(location=owner.location)
    invoice = issued_invoice(customer=owner)
    assert_problem(post(api_client(other.portal_user), cancel_url(invoice)), 404, "not_found")
    assert not CreditNote.objects.exists()


def test_member_may_cancel_own_unpaid_invoice_where_location_allows(api_client):
    member = portal_member(members_may_cancel=True)
    invoice = issued_invoice(customer=member)
    response = post(api_client(member.portal_user), cancel_url(invoice), {"reason": "Mistake"})
    assert response.status_code == 201, response.content
    invoice.refresh_from_db()
    assert (invoice.state, invoice.cancelled_by) == (Invoice.State.CANCELLED, member.portal_user)


def test_member_may_not_cancel_by_default(api_client):
    member = portal_member()
    invoice = issued_invoice(customer=member)
    assert_problem(
        post(api_client(member.portal_user), cancel_url(invoice)), 403, "cancel_not_allowed"
    )
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("de", "Rechnungen von {location} können nur von dessen Mitarbeitern storniert werden."),
        (
            "nl",
            "Facturen van {location} kunnen alleen door de medewerkers daarvan worden gecrediteerd.",
        ),
    ],
)
def test_a_member_reads_the_refusal_in_german_or_dutch(api_client, language, detail):
    member = portal_member()
    invoice = issued_invoice(customer=member)
    response = post(
        api_client(member.portal_user), cancel_url(invoice), HTTP_ACCEPT_LANGUAGE=language
    )
    body = assert_problem(response, 403, "cancel_not_allowed")
    assert body["detail"] == detail.format(location=member.location.name)


@pytest.mark.parametrize("paid", ["10.00", "all"])
def test_member_may_not_cancel_a_paid_invoice(api_client, paid):
    member = portal_member(members_may_cancel=True)
    invoice = issued_invoice(customer=member, paid=paid)
    assert_problem(post(api_client(member.portal_user), cancel_url(invoice)), 409, "invoice_paid")
    assert not CreditNote.objects.exists()


def test_staff_may_cancel_a_paid_invoice(api_client):
    invoice = issued_invoice(customer=portal_member(), paid="all")
    response = post(api_client(staff_user()), cancel_url(invoice))
    assert response.status_code == 201, response.content
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED
    note = CreditNote.objects.get(invoice=invoice)
    assert response.json()["number"] == note.number
    assert response.json()["total"] == str(-invoice.total.amount)  # credited in full
    # The paid money stays with the customer as account credit: nothing is refunded.
    assert customer_balance(customer=invoice.customer) == {"EUR": -invoice.total}
    assert available_credit(customer=invoice.customer, currency="EUR") == invoice.total
    assert invoice.payments.count() == 1 and not Refund.objects.exists()


def test_draft_is_409(api_client):
    from tests.factories import draft_invoice

    draft = draft_invoice()
    assert_problem(post(api_client(staff_user()), cancel_url(draft)), 409, "invoice_is_draft")
    draft.refresh_from_db()
    assert draft.state == Invoice.State.DRAFT and not CreditNote.objects.exists()


# --- idempotency ------------------------------------------------------------------------------


def test_replay_with_same_key_returns_identical_response_and_writes_nothing(api_client, invoice):
    client = api_client(staff_user())
    first = post(client, cancel_url(invoice), {"reason": "Twice"}, key="k-1")
    assert first.status_code == 201
    before = counts()
    again = post(client, cancel_url(invoice), {"reason": "Twice"}, key="k-1")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert counts() == before == (1, 2, 1, 1)


def test_same_json_with_other_formatting_is_the_same_request(api_client, invoice):
    client = api_client(staff_user())
    first = client.post(
        cancel_url(invoice),
        '{"reason": "x"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="fmt",
    )
    again = client.post(
        cancel_url(invoice),
        '{ "reason":"x" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="fmt",
    )
    assert (again.status_code, again.content) == (201, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert counts() == (1, 2, 1, 1)  # one cancel: its note, entry and event


def test_same_key_other_body_is_422_reused(api_client, invoice):
    client = api_client(staff_user())
    assert post(client, cancel_url(invoice), {"reason": "a"}, key="k-2").status_code == 201
    before = counts()
    response = post(client, cancel_url(invoice), {"reason": "b"}, key="k-2")
    assert_problem(response, 422, "idempotency_key_reused")
    assert counts() == before


def test_same_key_other_invoice_is_422_reused(api_client, invoice):
    client = api_client(staff_user())
    other = issued_invoice(customer=invoice.customer)
    assert post(client, cancel_url(invoice), key="k-3").status_code == 201
    assert_problem(post(client, cancel_url(other), key="k-3"), 422, "idempotency_key_reused")
    other.refresh_from_db()
    assert other.state == Invoice.State.ISSUED


def test_error_responses_are_stored_and_replayed_too(api_client, invoice):
    client = api_client(staff_user())
    assert post(client, cancel_url(invoice)).status_code == 201
    first = post(client, cancel_url(invoice), key="late")
    assert_problem(first, 409, "invoice_already_cancelled")
    again = post(client, cancel_url(invoice), key="late")
    assert (again.status_code, again.content) == (409, first.content)
    assert again["Content-Type"] == "application/problem+json"


def test_keys_are_scoped_per_user(api_client, invoice):
    other_invoice = issued_invoice(customer=invoice.customer)
    first = post(api_client(staff_user()), cancel_url(invoice), key="shared")
    assert first.status_code == 201
    response = post(api_client(staff_user()), cancel_url(other_invoice), key="shared")
    assert response.status_code == 201
    # The second user's request was executed, not answered with the first one's response.
    assert response.json()["number"] != first.json()["number"]
    assert sorted(CreditNote.objects.values_list("invoice_id", flat=True)) == sorted(
        [invoice.pk, other_invoice.pk]
    )
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


@contextmanager
def key_held(*, user, key):
    """The key claimed by a request still running: its advisory lock held by another
    database session."""
    from coworking.idempotency import _lock_id

    db = settings.DATABASES["default"]
    other = psycopg2.connect(
        dbname=connection.settings_dict["NAME"], user=db["USER"], host=db["HOST"] or None,
        port=db["PORT"] or None, password=db["PASSWORD"] or None,
    )  # fmt: skip
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_id(user_id=user.pk, key=key)])
        yield
    finally:
        other.close()


def test_key_in_use_is_409_at_once(api_client, invoice):
    user = staff_user()
    with key_held(user=user, key="busy"):
        response = post(api_client(user), cancel_url(invoice), key="busy")
        assert_problem(response, 409, "idempotency_key_in_use")
        assert not CreditNote.objects.exists()
    # The first request is gone without storing anything (its transaction died): the key
    # is free at once, the retry runs the work.
    response = post(api_client(user), cancel_url(invoice), key="busy")
    assert response.status_code == 201, response.content
    stored = IdempotencyKey.objects.get(key="busy")
    assert (stored.status, stored.response_status) == ("completed", 201)


def test_expired_key_is_claimed_afresh(api_client, invoice):
    user = staff_user()
    client = api_client(user)
    other = issued_invoice(customer=invoice.customer)
    assert post(client, cancel_url(invoice), key="old").status_code == 201
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - datetime.timedelta(hours=25),
        expires_at=timezone.now() - datetime.timedelta(hours=1),
    )
    response = post(client, cancel_url(other), key="old")
    assert response.status_code == 201
    assert response.json()["invoice"] == other.pk


def test_purge_deletes_only_expired_keys(api_client, invoice):
    from coworking.tasks import purge_idempotency_keys

    client = api_client(staff_user())
    post(client, cancel_url(invoice), key="keep")
    post(client, cancel_url(invoice), key="drop")
    IdempotencyKey.objects.filter(key="drop").update(expires_at=timezone.now())
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["keep"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "naïve"])
def test_invalid_key_is_422(api_client, invoice, key):
    response = api_client(staff_user()).post(
        cancel_url(invoice), {}, format="json", headers={"Idempotency-Key": key}
    )
    assert_problem(response, 422, "idempotency_key_invalid")
    assert counts() == (0, 1, 0, 0)


# --- bad input: 4xx problems, nothing changed --------------------------------------------------


def test_malformed_json(api_client, invoice):
    response = api_client(staff_user()).post(
        cancel_url(invoice), '{"reason": ', content_type="application/json"
    )
    assert_problem(response, 400, "parse_error")
    assert counts() == (0, 1, 0, 0)


def test_one_megabyte_reason(api_client, invoice):
    response = post(api_client(staff_user()), cancel_url(invoice), {"reason": "x" * 1_000_000})
    body = assert_problem(response, 422, "invalid_input")
    assert body["errors"][0]["field"] == "reason"
    assert body["errors"][0]["code"] == "max_length"
    assert counts() == (0, 1, 0, 0)


def test_body_over_the_upload_limit_is_413(api_client, invoice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(
        api_client(staff_user()), cancel_url(invoice), {"reason": "x" * 2000}, key="big"
    )
    assert_problem(response, 413, "request_too_large")
    assert counts() == (0, 1, 0, 0)


def test_non_numeric_id(api_client, invoice):
    response = post(api_client(staff_user()), "/api/v1/invoices/abc/cancel")
    assert_problem(response, 404, "not_found")
    assert counts() == (0, 1, 0, 0)


def test_unknown_field(api_client, invoice):
    response = post(api_client(staff_user()), cancel_url(invoice), {"reason": "", "refund": True})
    body = assert_problem(response, 422, "invalid_input")
    assert body["errors"] == [
        {"field": "refund", "message": "Unknown field.", "code": "unknown_field"}
    ]
    assert counts() == (0, 1, 0, 0)


@pytest.mark.parametrize(
    "body",
    [[], "reason", 42, None, {"reason": 42.5}, {"reason": ["a"]}, {"reason": "a\x00b"}],
    ids=["list", "string", "number", "null", "float", "list-reason", "nul-char"],
)
def test_wrong_json_shapes(api_client, invoice, body):
    response = api_client(staff_user()).post(
        cancel_url(invoice), json.dumps(body), content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)
    assert counts() == (0, 1, 0, 0)


def test_form_encoded_body_is_415(api_client, invoice):
    response = api_client(staff_user()).post(
        cancel_url(invoice), {"reason": "x"}, format="multipart"
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert counts() == (0, 1, 0, 0)


def test_get_on_cancel_is_405(api_client, invoice):
    assert_problem(api_client(staff_user()).get(cancel_url(invoice)), 405, "method_not_allowed")
    assert counts() == (0, 1, 0, 0)


def test_session_auth_needs_csrf(invoice):
    from django.test import Client

    test_client = Client(enforce_csrf_checks=True)
    test_client.force_login(staff_user())
    response = test_client.post(cancel_url(invoice), "{}", content_type="application/json")
    assert_problem(response, 403, "permission_denied")
    assert counts() == (0, 1, 0, 0)


def test_cancel_is_throttled_per_user(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"invoice_cancel": "2/minute"},
    }
    member = portal_member()
    client = api_client(staff_user())
    invoices = [issued_invoice(customer=member) for _ in range(3)]
    assert post(client, cancel_url(invoices[0])).status_code == 201
    assert post(client, cancel_url(invoices[1])).status_code == 201
    response = post(client, cancel_url(invoices[2]))
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert Invoice.objects.get(pk=invoices[2].pk).state == Invoice.State.ISSUED
    # Reads are not throttled.
    assert client.get("/api/v1/invoices").status_code == 200


def test_the_cancel_throttle_window_slides(api_client, settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"invoice_cancel": "2/minute"},
    }
    now = [1_000_000.0]
    monkeypatch.setattr(SlidingWindowThrottle, "timer", staticmethod(lambda: now[0]))
    client = api_client(staff_user())
    invoices = [issued_invoice() for _ in range(4)]
    assert post(client, cancel_url(invoices[0])).status_code == 201  # t = 0
    now[0] += 20
    assert post(client, cancel_url(invoices[1])).status_code == 201  # t = 20
    now[0] += 20
    refused = post(client, cancel_url(invoices[2]))  # t = 40: two in the last minute
    assert_problem(refused, 429, "throttled")
    assert refused["Retry-After"] == "20"  # when the first leaves the window
    now[0] += 21
    # t = 61: the first has left the window; the refusal was not counted.
    assert post(client, cancel_url(invoices[2])).status_code == 201
    refused = post(client, cancel_url(invoices[3]))
    assert_problem(refused, 429, "throttled")
    assert refused["Retry-After"] == "19"  # the one at t = 20 leaves at t = 80


@pytest.mark.parametrize("who", ["staff", "member"])
def test_an_api_cancel_runs_a_fixed_number_of_queries(api_client, who):
    """What the API adds to the service's queries is pinned, whatever the invoice's size:
    token and user (1), the user's permissions, loaded once (1) and the scoped look-up (1; a
    member's customer: +1). The response's note states its lines and its discounts and
    charges as the service wrote them (``coworking.related``), with no query."""
    member = portal_member(members_may_cancel=True)
    client = api_client(member.portal_user if who == "member" else staff_user())
    counts = []
    for lines in (1, 20):
        invoice = issued_invoice(
            customer=member, specs=[(f"Line {n}", "1", "10.00", "21") for n in range(lines)]
        )
        with CaptureQueriesContext(connection) as queries:
            response = post(client, cancel_url(invoice))
        assert response.status_code == 201, response.content
        permission_loads = [q for q in queries if "auth_permission" in q["sql"]]
        assert len(permission_loads) == 1
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # 22: the service's own (savepoint, lock, ..., the journal entry, release), pinned in
    # test_cancel_service.py.
    assert counts[0] == 22 + (3 if who == "staff" else 4)
