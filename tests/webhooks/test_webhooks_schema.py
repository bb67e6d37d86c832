"""The webhooks' OpenAPI 3.1 document: valid, one entry per event type, and every body a
real receiver gets validates against it."""

import pytest
import yaml
from django.test import Client
from drf_spectacular.validation import validate_schema
from jsonschema import Draft202012Validator

from coworking.events import EventType
from credits.services import invoice_cancel
from invoicing.models import Channel
from invoicing.services import payment_record
from tests.conftest import wait_until
from tests.factories import issued_invoice


@pytest.fixture(autouse=True)
def public_schema(settings):
    """Read as a receiver's developer would where the operator publishes it (who may read it
    otherwise: ``test_api_schema_access.py``)."""
    settings.API_SCHEMA_PUBLIC = True


def schema_document() -> dict:
    response = Client().get("/api/v1/webhooks/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_the_document_is_valid_openapi_3_1_with_every_event_type():
    document = schema_document()
    validate_schema(document)
    assert (document["openapi"] == "3.1.0" and "paths" not in document) or not document["paths"]
    assert set(document["webhooks"]) == set(EventType.values)
    body = document["webhooks"]["invoice.cancelled"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InvoiceCancelledEvent"
    }


def test_every_body_received_validates_against_its_schema(
    celery_worker, receiver, endpoint_for, private_documents
):
    endpoint_for(*EventType.values)
    paid = issued_invoice()
    payment_record(invoice=paid, amount=paid.total)
    invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.CLI)

    wait_until(
        lambda: {item.type for item in receiver.received} >= set(EventType.values), timeout=60
    )
    document = schema_document()
    for item in receiver.received:
        envelope = document["webhooks"][item.type]["post"]["requestBody"]["content"]
        pointer = envelope["application/json"]["schema"]["$ref"]
        Draft202012Validator({**document, "$ref": pointer}).validate(item.body)
        assert item.verified


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "media_type"),
    [("", "application/vnd.oai.openapi"), ("?format=json", "application/vnd.oai.openapi+json")],
)
def test_the_document_is_served_as_yaml_by_default_and_as_json_on_request(query, media_type):
    response = Client().get(f"/api/v1/webhooks/schema/{query}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(media_type)
    document = yaml.safe_load(response.content)  # JSON is YAML too
    assert set(document["webhooks"]) == set(EventType.values)
    envelope = document["components"]["schemas"]["InvoiceIssuedEvent"]
    assert envelope["properties"]["type"]["enum"] == ["invoice.issued"]
