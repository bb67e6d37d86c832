"""The OpenAPI schema: it validates, it is served with its docs, and the API conforms to it
(schemathesis with every check, `--checks all`: status codes, content types, headers and
bodies as documented, invalid data refused, valid data accepted, authentication not
ignored, unsupported methods refused; positive and negative data; bounded: 15 examples per
operation, each sent as two users)."""

from pathlib import Path

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.models import Invoice
from tests.factories import draft_invoice, issued_invoice, portal_member, staff_user


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for expected in (
        "/api/v1/invoices/{id}/cancel",
        "Idempotency-Key",
        "application/problem+json",
        "/api/v1/customers/{id}/ledger",
    ):
        assert expected in text


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    client.force_login(portal_member().portal_user)
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    cancel = document["paths"]["/api/v1/invoices/{id}/cancel"]["post"]
    assert {"201", "401", "403", "404", "409", "422", "429"} <= set(cancel["responses"])
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content and b"/static/drf_spectacular_sidecar/" in docs.content
    assert client.get("/api/v1/redoc/").status_code == 200


# --- schemathesis ------------------------------------------------------------------------------


@pytest.fixture
def api_data(django_db_reset_sequences, fast_password_hasher, reset_throttles, settings):
    """A small data set whose ids the generated requests may hit (committed: the WSGI app
    manages its own transactions and connections)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"invoice_cancel": "1000/minute"},
    }
    member = portal_member(members_may_cancel=True)
    for _ in range(3):
        issued_invoice(customer=member)
    issued_invoice(customer=member, paid="all")
    invoice_cancel(invoice=issued_invoice(customer=member), actor=None, channel="system")
    draft_invoice(customer=member)
    return member


@pytest.fixture
def tokens(api_data):
    """Authorization headers of a staff user (sees and may cancel everything) and of the
    member (sees their own, may cancel unpaid ones): every case is sent as both."""
    from coworking.models import Customer

    member = Customer.objects.filter(portal_user__isnull=False).get().portal_user
    return [
        {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}
        for user in (staff_user(), member)
    ]


@pytest.fixture
def existing_ids(api_data):
    """Ids of the data set per path. The invoice PDF is left out: rendering it on every
    example would dominate the run (test_api_pdf covers its 200)."""
    invoices = list(Invoice.objects.order_by("pk").values_list("pk", flat=True))
    notes = list(CreditNote.objects.values_list("pk", flat=True))
    return {
        "/api/v1/invoices/{id}": invoices,
        "/api/v1/invoices/{id}/cancel": invoices,
        "/api/v1/invoices/{id}/credit-notes": invoices,
        "/api/v1/credit-notes/{id}": notes,
        "/api/v1/credit-notes/{id}/pdf": notes,
        "/api/v1/customers/{id}/ledger": [api_data.pk],
        "/api/v1/customers/{id}/balance": [api_data.pk],
    }


# Loaded at collection through the WSGI app, as a client would (no database needed), with
# the project's schemathesis.toml (what OpenAPI cannot express, per operation).
# (schemathesis.pytest.from_fixture would load it lazily but does not work with pytest 9.)
with override_settings(API_SCHEMA_PUBLIC=True):  # no user exists yet at collection
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json",
        get_wsgi_application(),
        config=SchemathesisConfig.from_path(
            Path(__file__).resolve().parents[2] / "schemathesis.toml"
        ),
    )


@pytest.mark.schemathesis
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, tokens, existing_ids):
    """Each generated request is sent as is (random ids are mostly 404s) and, for paths
    with an id, again with the id of an existing object, so 200/201/409 answers are checked
    too."""
    for headers in tokens:
        case.call_and_validate(headers=headers)
    ids = existing_ids.get(case.operation.path)
    if ids and isinstance(case.path_parameters.get("id"), int):
        case.path_parameters = {
            **case.path_parameters,
            "id": ids[abs(case.path_parameters["id"]) % len(ids)],
        }
        for headers in tokens:
            case.call_and_validate(headers=headers)
