"""Hostile or malformed input to the API: always a 4xx problem, nothing changed."""

import pytest

from coworking.api.parsers import MAX_DEPTH, nesting_depth
from coworking.idempotency import request_fingerprint
from invoicing.models import Invoice
from tests.factories import issued_invoice, staff_user
from tests.helpers import assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hasher")]


def nested_arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "body",
    [
        nested_arrays(1000),  # 2 KB: beyond the interpreter's recursion limit
        nested_objects(1000),
        nested_arrays(100_000),
        '{"reason": ' + nested_arrays(MAX_DEPTH) + "}",  # parsable, but too deep
    ],
    ids=["arrays-1000", "objects-1000", "arrays-100000", "just-too-deep"],
)
@pytest.mark.parametrize("key", [None, "deep-1"])
def test_deeply_nested_json_is_a_400_problem(api_client, body, key):
    invoice = issued_invoice()
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    response = api_client(staff_user()).post(
        f"/api/v1/invoices/{invoice.pk}/cancel",
        body,
        content_type="application/json",
        **headers,
    )
    assert_problem(response, 400, "parse_error")
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.ISSUED


def test_json_nested_within_the_limit_is_parsed(api_client):
    invoice = issued_invoice()
    body = '{"reason": "Booked twice", "extra": ' + nested_arrays(MAX_DEPTH - 1) + "}"
    response = api_client(staff_user()).post(
        f"/api/v1/invoices/{invoice.pk}/cancel", body, content_type="application/json"
    )
    assert_problem(response, 422, "invalid_input")  # parsed; the unknown field is refused
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.ISSUED


def test_nesting_depth_counts_without_recursion():
    assert nesting_depth("x") == 0
    assert nesting_depth({"a": [1, {"b": []}]}) == 4
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting_depth(deep) == MAX_DEPTH + 1  # stops counting past the limit


def test_the_idempotency_fingerprint_takes_any_body():
    body = nested_arrays(100_000).encode()
    assert len(request_fingerprint(method="POST", path="/x", body=body)) == 64


def test_an_error_about_the_request_is_not_replayed_to_its_corrected_retry(api_client):
    """A 415 (wrong media type) or 400 (unparsable body) did no work: the same key with the
    corrected request runs the cancel instead of replaying the error."""
    invoice = issued_invoice()
    client = api_client(staff_user())
    url = f"/api/v1/invoices/{invoice.pk}/cancel"
    wrong = client.post(url, "reason=x", content_type="text/plain", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert_problem(wrong, 415, "unsupported_media_type")
    broken = client.post(url, "{", content_type="application/json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert_problem(broken, 400, "parse_error")
    fixed = client.post(url, {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    assert fixed.status_code == 201, fixed.content
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.CANCELLED


@pytest.mark.parametrize("suffix", ["%0a", "%0A%0A", "%20", "abc", "34.0"])
def test_an_id_is_digits_and_nothing_else(api_client, suffix):
    invoice = issued_invoice()
    client = api_client(staff_user())
    response = client.get(f"/api/v1/invoices/{invoice.pk}")
    assert response.status_code == 200 and response.json()["number"] == invoice.number
    assert_problem(client.get(f"/api/v1/invoices/{invoice.pk}{suffix}"), 404, "not_found")


def test_a_nul_character_in_a_query_is_a_400_problem(api_client):
    response = api_client(staff_user()).get("/api/v1/invoices?state=%00")
    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=", "state"),  # an empty value is not "no filter"
        ("currency=", "currency"),
        ("issued_from=", "issued_from"),
        ("page_size=null", "page_size"),  # not silently the default
        ("page_size=0", "page_size"),
        ("page_size=201", "page_size"),
        ("issued_from=2026-02-01&issued_to=2026-01-31", "issued_to"),  # reversed range
    ],
)
def test_list_parameters_out_of_the_schema_are_a_422_problem(api_client, query, field):
    issued_invoice()
    response = api_client(staff_user()).get(f"/api/v1/invoices?{query}")
    body = assert_problem(response, 422, "invalid_input")
    assert [error["field"] for error in body["errors"]] == [field]


def test_page_size_within_its_bounds_is_honoured(api_client):
    for _ in range(3):
        issued_invoice()
    response = api_client(staff_user()).get("/api/v1/invoices?page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 2 and body["next"] is not None


def test_an_unknown_format_is_a_404_problem_not_a_200(api_client):
    response = api_client(staff_user()).get("/api/v1/invoices?format=xyz")
    assert_problem(response, 404, "not_found")
