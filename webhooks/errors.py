"""Typed errors of webhook endpoints and deliveries; stable codes are part of the API
contract."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotFound
from webhooks.error_codes import WebhooksErrorCode as Code


class UnsafeEndpointUrl(InvalidInput):
    """The URL is malformed, not https where https is required, or resolves to an address
    that must not be reached from here (loopback, private, link-local, ...)."""

    code = Code.WEBHOOK_URL_NOT_ALLOWED
    default_message = _("This URL cannot receive webhooks.")


class InvalidEndpoint(InvalidInput):
    code = Code.WEBHOOK_ENDPOINT_INVALID
    default_message = _("The webhook endpoint is not valid.")


class DeliveryNotFound(NotFound):
    code = Code.WEBHOOK_DELIVERY_NOT_FOUND
    default_message = _("The webhook delivery does not exist.")
