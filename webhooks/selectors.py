"""Reads of webhooks for the admin: an endpoint's recent deliveries and what failed."""

from django.db.models import QuerySet

from webhooks.models import Delivery, Endpoint

RECENT_DELIVERIES = 20


def endpoint_recent_deliveries(*, endpoint: Endpoint, limit: int = RECENT_DELIVERIES) -> list:
    """The endpoint's latest deliveries, newest first, with their events (one query)."""
    return list(
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .defer("event__body")
        .order_by("-created_at", "-pk")[:limit]
    )


def endpoint_failed_deliveries(*, endpoint: Endpoint) -> QuerySet:
    return Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.FAILED)
