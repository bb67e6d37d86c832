"""Typed errors of webhook endpoints and deliveries; stable codes are part of the API
contract."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotFound


class UnsafeEndpointUrl(InvalidInput):
    """The URL is malformed, not https where https is required, or resolves to an address
    that must not be reached from here (loopback, private, link-local, ...)."""

    code = "webhook_url_not_allowed"
    default_message = _("This URL cannot receive webhooks.")


class InvalidEndpoint(InvalidInput):
    code = "webhook_endpoint_invalid"
    default_message = _("The webhook endpoint is not valid.")


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
    default_message = _("The webhook delivery does not exist.")
