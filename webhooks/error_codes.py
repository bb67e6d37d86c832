"""The stable error codes of webhooks; see ``coworking.error_codes``."""

from enum import StrEnum


class WebhooksErrorCode(StrEnum):
    WEBHOOK_URL_NOT_ALLOWED = "webhook_url_not_allowed"
    WEBHOOK_ENDPOINT_INVALID = "webhook_endpoint_invalid"
    WEBHOOK_DELIVERY_NOT_FOUND = "webhook_delivery_not_found"
