"""Writes of webhook endpoints: create, change, rotate the secret.

The signing secret is made here (``whsec_`` + 32 random bytes in base64, the format of the
Standard Webhooks libraries) and returned once by ``endpoint_create`` and
``endpoint_rotate_secret``; the admin shows it then and never again. Sending deliveries
again is in ``webhooks.delivery``.
"""

import base64
import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coworking.events import EventType
from coworking.locking import lock_rows
from webhooks.errors import InvalidEndpoint
from webhooks.models import Delivery, Endpoint
from webhooks.safety import endpoint_url_check

DESCRIPTION_MAX_LENGTH = 200


def generate_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_check(*, url: str, description: str, event_types) -> tuple[str, str, list[str]]:
    """The endpoint's fields as they would be saved (trimmed, types sorted); raises
    ``UnsafeEndpointUrl`` or ``InvalidEndpoint`` with the reason. Writes nothing."""
    url = (url or "").strip()
    if len(url) > Endpoint._meta.get_field("url").max_length:
        raise InvalidEndpoint(_("The URL is too long."))
    endpoint_url_check(url=url)
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidEndpoint(
            _("The description is too long (at most %(max)s characters).")
            % {"max": DESCRIPTION_MAX_LENGTH}
        )
    event_types = list(dict.fromkeys(event_types or []))
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise InvalidEndpoint(
            _("Unknown event types: %(types)s.") % {"types": ", ".join(map(str, unknown))}
        )
    if not event_types:
        raise InvalidEndpoint(_("Choose at least one event type."))
    return url, description, sorted(event_types)


def endpoint_create(
    *, url: str, description: str = "", event_types, is_active: bool = True
) -> tuple[Endpoint, str]:
    """Register an endpoint and return it with its new signing secret (shown once).

    Raises ``UnsafeEndpointUrl`` (not https where required, private address, unresolvable)
    or ``InvalidEndpoint`` with nothing written.
    """
    url, description, event_types = endpoint_check(
        url=url, description=description, event_types=event_types
    )
    secret = generate_secret()
    endpoint = Endpoint.objects.create(
        url=url,
        description=description,
        event_types=event_types,
        is_active=is_active,
        secret=secret,
    )
    return endpoint, secret


def endpoint_update(
    *, endpoint: Endpoint, url: str, description: str, event_types, is_active: bool
) -> Endpoint:
    """Change an endpoint. Activating it again clears an automatic disabling and its run
    of failures; its pending deliveries go out with the next sweep. Raises like
    ``endpoint_create``."""
    url, description, event_types = endpoint_check(
        url=url, description=description, event_types=event_types
    )
    with transaction.atomic():
        endpoint = lock_rows(Endpoint.objects.all()).get(pk=endpoint.pk)
        fields = {"url": url, "description": description, "event_types": event_types}
        fields["is_active"] = is_active
        reactivated = is_active and not endpoint.is_active
        if reactivated:
            fields.update(disabled_at=None, failing_since=None)
        for name, value in fields.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=list(fields))
        if reactivated:  # its waiting deliveries go out with the next sweep
            endpoint.deliveries.filter(status=Delivery.Status.PENDING).update(queued_at=None)
    return endpoint


def endpoint_rotate_secret(*, endpoint: Endpoint, overlap: datetime.timedelta | None = None) -> str:
    """Give the endpoint a new secret and return it (shown once). The old one keeps signing
    beside it for ``overlap`` (default ``WEBHOOKS_SECRET_OVERLAP`` seconds; zero stops it at
    once), so the receiver can switch without refusing a delivery."""
    if overlap is None:
        overlap = datetime.timedelta(seconds=settings.WEBHOOKS_SECRET_OVERLAP)
    secret = generate_secret()
    with transaction.atomic():
        endpoint = lock_rows(Endpoint.objects.all()).get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret if overlap else ""
        endpoint.previous_secret_expires_at = timezone.now() + overlap if overlap else None
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return secret
