"""What a webhook says: an envelope around the API's representation of the object.

Every body is one JSON object::

    {"id": "<event uuid, also the webhook-id header>", "type": "invoice.cancelled",
     "timestamp": "<when the change committed its event>", "api_version": "1.0.0",
     "invoice_id": 42, "sequence": 3, "data": {<the invoice as GET /api/v1/invoices/42>}}

``data`` is produced by the API's own detail serializers (imported from the app that owns
them), so a webhook and the API never disagree on a field. URLs in ``data`` are paths
relative to the API's host. The same serializers describe the bodies in the webhooks'
OpenAPI document (``/api/v1/webhooks/schema/``).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from coworking.events import EventType
from credits.api.serializers import CreditNoteDetailSerializer
from credits.models import CreditNote
from invoicing.api.serializers import InvoiceDetailSerializer, PaymentSerializer
from invoicing.models import Invoice, Payment


class EventEnvelope(serializers.Serializer):
    id = serializers.UUIDField(
        help_text=_("The event's id; the same as the webhook-id header, on every retry.")
    )
    timestamp = serializers.DateTimeField(help_text=_("When the change happened."))
    api_version = serializers.CharField(
        help_text=_("The version of the API representation in data.")
    )
    invoice_id = serializers.IntegerField(help_text=_("The invoice the event belongs to."))
    sequence = serializers.IntegerField(
        help_text=_(
            "1, 2, 3 ... for the events of one invoice, in the order they happened. There "
            "is no order across invoices, and deliveries may arrive out of order."
        )
    )


class InvoiceIssuedEvent(EventEnvelope):
    type = serializers.ChoiceField(choices=[EventType.INVOICE_ISSUED.value])
    data = InvoiceDetailSerializer()


class InvoiceCancelledEvent(EventEnvelope):
    type = serializers.ChoiceField(choices=[EventType.INVOICE_CANCELLED.value])
    data = InvoiceDetailSerializer()


class CreditNoteIssuedEvent(EventEnvelope):
    type = serializers.ChoiceField(choices=[EventType.CREDIT_NOTE_ISSUED.value])
    data = CreditNoteDetailSerializer()


class CreditNotePdfReadyEvent(EventEnvelope):
    type = serializers.ChoiceField(choices=[EventType.CREDIT_NOTE_PDF_READY.value])
    data = CreditNoteDetailSerializer()


class PaymentRecordedEvent(EventEnvelope):
    type = serializers.ChoiceField(choices=[EventType.PAYMENT_RECORDED.value])
    data = PaymentSerializer()


@dataclass(frozen=True)
class Subject:
    """The kind of object an event is about: how to find its invoice and how to show it."""

    object_type: str
    invoice_id_of: Callable[[models.Model], int]
    queryset: Callable[[], models.QuerySet]


INVOICE = Subject(
    "invoice",
    invoice_id_of=lambda invoice: invoice.pk,
    queryset=lambda: Invoice.objects.select_related("location", "customer").prefetch_related(
        "lines", "payments", "credit_notes"
    ),
)
CREDIT_NOTE = Subject(
    "credit_note",
    invoice_id_of=lambda note: note.invoice_id,
    queryset=lambda: CreditNote.objects.prefetch_related("lines"),
)
PAYMENT = Subject(
    "payment", invoice_id_of=lambda payment: payment.invoice_id, queryset=Payment.objects.all
)

EVENTS: dict[str, tuple[Subject, type[EventEnvelope]]] = {
    EventType.INVOICE_ISSUED: (INVOICE, InvoiceIssuedEvent),
    EventType.INVOICE_CANCELLED: (INVOICE, InvoiceCancelledEvent),
    EventType.CREDIT_NOTE_ISSUED: (CREDIT_NOTE, CreditNoteIssuedEvent),
    EventType.CREDIT_NOTE_PDF_READY: (CREDIT_NOTE, CreditNotePdfReadyEvent),
    EventType.PAYMENT_RECORDED: (PAYMENT, PaymentRecordedEvent),
}


def render_body(*, event) -> str:
    """The JSON body of ``event`` (a ``webhooks.models.Event``), from its object as stored now.

    Raises the object's ``DoesNotExist`` if it is gone (issued documents never are).
    """
    subject, envelope = EVENTS[event.type]
    obj = subject.queryset().get(pk=event.object_id)
    data = envelope(
        {
            "id": event.id,
            "type": event.type,
            "timestamp": event.created_at,
            "api_version": settings.WEBHOOKS_API_VERSION,
            "invoice_id": event.invoice_id,
            "sequence": event.sequence,
            "data": obj,
        }
    ).data
    return JSONRenderer().render(data).decode()


def _webhook(
    event_type: EventType, envelope: type[EventEnvelope], description: str
) -> OpenApiWebhook:
    # Plain strings, not the enum members: the YAML renderer cannot represent those.
    return OpenApiWebhook(
        name=event_type.value,
        decorator=extend_schema(
            summary=event_type.value,
            description=description,
            request=envelope,
            responses={
                200: OpenApiResponse(
                    description="Any 2xx within the timeout acknowledges the event; "
                    "anything else (including a redirect) is retried."
                )
            },
        ),
    )


INVOICE_ISSUED_WEBHOOK = _webhook(
    EventType.INVOICE_ISSUED,
    InvoiceIssuedEvent,
    "An invoice was issued (numbered); data is the invoice.",
)
INVOICE_CANCELLED_WEBHOOK = _webhook(
    EventType.INVOICE_CANCELLED,
    InvoiceCancelledEvent,
    "An invoice was cancelled; data is the invoice. A credit_note.issued follows.",
)
CREDIT_NOTE_ISSUED_WEBHOOK = _webhook(
    EventType.CREDIT_NOTE_ISSUED,
    CreditNoteIssuedEvent,
    "A credit note was issued; data is the credit note (its PDF is still pending).",
)
CREDIT_NOTE_PDF_READY_WEBHOOK = _webhook(
    EventType.CREDIT_NOTE_PDF_READY,
    CreditNotePdfReadyEvent,
    "A credit note's PDF was rendered and stored; data.pdf_url downloads it.",
)
PAYMENT_RECORDED_WEBHOOK = _webhook(
    EventType.PAYMENT_RECORDED,
    PaymentRecordedEvent,
    "A payment was recorded against invoice_id; data is the payment.",
)
# drf-spectacular's WEBHOOKS setting takes import paths.
WEBHOOKS = [
    f"{__name__}.{name}"
    for name in (
        "INVOICE_ISSUED_WEBHOOK",
        "INVOICE_CANCELLED_WEBHOOK",
        "CREDIT_NOTE_ISSUED_WEBHOOK",
        "CREDIT_NOTE_PDF_READY_WEBHOOK",
        "PAYMENT_RECORDED_WEBHOOK",
    )
]
