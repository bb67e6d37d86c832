"""Webhooks: the transactional outbox of events and their signed deliveries to endpoints.

An ``Event`` row is written in the same transaction as the change it reports (through the
``coworking.events`` seam), so an event exists if and only if its change committed. Each
event carries a ``sequence`` that increases by one per invoice (``EventStream`` holds the
counter, locked until commit like a document number); there is no order across invoices.
After commit the event's body (the API representation of its object, in an envelope) is
rendered once and stored, and one ``Delivery`` per subscribed ``Endpoint`` is created. Every
HTTP request made for a delivery is an ``Attempt``. The body and the ``webhook-id`` (the
event id) never change between attempts, so receivers can de-duplicate.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coworking.events import EventType
from coworking.triggers import no_truncate
from invoicing.models import Invoice


class Endpoint(models.Model):
    """A receiver of events: where, which types, and the secret that signs for it.

    ``secret`` signs every delivery; after a rotation ``previous_secret`` signs too until
    ``previous_secret_expires_at``, so the receiver can switch without losing one. An
    endpoint that fails continuously for ``WEBHOOKS_DISABLE_AFTER`` seconds is deactivated
    (``disabled_at`` tells it was automatic); ``failing_since`` is the start of the current
    run of failures.
    """

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(
        _("event types"), default=list, help_text=_("The event types sent to this endpoint.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        _("previous secret signs until"), null=True, blank=True, editable=False
    )
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(
        _("disabled automatically at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(secret=""), name="webhooks_endpoint_has_a_secret"),
            models.CheckConstraint(
                condition=Q(disabled_at__isnull=True) | Q(is_active=False),
                name="webhooks_endpoint_disabled_is_inactive",
            ),
        ]

    def __str__(self):
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types


class EventStream(models.Model):
    """The per-invoice event counter: the last sequence number given to an event of the
    invoice. Its row stays locked until the event's transaction ends, so sequences of one
    invoice are 1, 2, 3 ... in commit order."""

    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    last_sequence = models.PositiveIntegerField()

    class Meta:
        triggers = [no_truncate("webhook_event_stream")]

    def __str__(self):
        return f"invoice {self.invoice_id}: {self.last_sequence}"


class Event(models.Model):
    """One thing that happened, recorded in the transaction that made it happen."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+", db_index=False)
    sequence = models.PositiveIntegerField(_("sequence in its invoice"))
    object_type = models.CharField(_("object type"), max_length=20)
    object_id = models.BigIntegerField(_("object id"))
    created_at = models.DateTimeField(_("created at"))
    body = models.TextField(
        _("body"), blank=True, help_text=_("The JSON sent, rendered once after commit.")
    )
    api_version = models.CharField(_("API version"), max_length=20, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "sequence"], name="webhooks_event_sequence_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched_at__isnull=True),
                name="webhooks_event_undispatched",
            ),
        ]
        # The outbox: an event whose change committed is delivered; emptying it would lose
        # events silently (rows are deleted one by one, if ever).
        triggers = [no_truncate("webhook_event")]

    def __str__(self):
        return f"{self.type} {self.object_type} #{self.object_id}"


class Delivery(models.Model):
    """One event on its way to one endpoint, retried until delivered or failed.

    ``attempt_count`` counts every attempt ever made (it numbers them); the retry schedule
    counts from ``round_offset``, which "Send again" moves up to start a new round.
    ``leased_until`` is set while a worker holds the delivery, so no two workers send it at
    once and a worker that died is noticed when the lease runs out. ``queued_at`` is when a
    task for it was last handed to the broker (``None``: the sweep queues it when due).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    round_offset = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="webhooks_delivery_once_per_endpoint"
            ),
            models.CheckConstraint(
                condition=Q(round_offset__lte=models.F("attempt_count")),
                name="webhooks_delivery_round_within_attempts",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_recent"),
        ]
        triggers = [no_truncate("webhook_delivery")]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"


class Attempt(models.Model):
    """One HTTP request of a delivery: written when it starts, completed when it ends (an
    attempt with no ``finished_at`` was interrupted: the worker died or lost its lease)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.TextField(_("response (excerpt)"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhooks_attempt_number_unique"
            ),
        ]
        triggers = [no_truncate("webhook_attempt")]

    def __str__(self):
        return f"#{self.number} {self.status_code or self.error or '…'}"
