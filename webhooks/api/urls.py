"""``/api/v1/webhooks/``: the OpenAPI 3.1 document of the webhooks (their bodies per event
type; no paths), generated from the serializers that render them."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from coworking.api.permissions import SchemaAccess
from webhooks.payloads import WEBHOOKS

app_name = "webhooks"

SCHEMA_SETTINGS = {
    "OAS_VERSION": "3.1.0",  # `webhooks` is OpenAPI 3.1; its schemas are JSON Schema 2020-12
    "TITLE": "Coworking back-office webhooks",
    "DESCRIPTION": (
        "Events sent to the endpoints registered in the admin, signed per the Standard "
        "Webhooks specification (webhook-id, webhook-timestamp, webhook-signature). "
        "Receivers verify the signature, answer 2xx quickly, and de-duplicate by "
        "webhook-id (also the body's `id`): a delivery may arrive more than once. Events "
        "of one invoice carry increasing `sequence` numbers; there is no order across "
        "invoices, and deliveries may arrive out of order."
    ),
    "WEBHOOKS": WEBHOOKS,
}

urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(
            custom_settings=SCHEMA_SETTINGS, patterns=[], permission_classes=[SchemaAccess]
        ),
        name="schema",
    ),
]
