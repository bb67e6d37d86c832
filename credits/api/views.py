"""Credit-note endpoints (list, detail, PDF download) and cancelling an invoice
(``POST /invoices/{id}/cancel``). Thin: scope, parse, call, render."""

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from coworking.api.einvoice import einvoice_schema, requested_syntax
from coworking.api.idempotency import IDEMPOTENCY_KEY_HEADER, idempotent
from coworking.api.pagination import StandardPagination
from coworking.api.renderers import PDFRenderer, XMLRenderer
from coworking.api.schema import problem_responses
from coworking.api.throttling import ScopedThrottle
from coworking.einvoice.syntax import xml_attachment
from credits.api.serializers import (
    CancelRequestSerializer,
    CreditNoteDetailSerializer,
    CreditNoteSerializer,
)
from credits.downloads import credit_note_pdf_response
from credits.einvoice import credit_note_einvoice
from credits.models import CreditNote
from credits.selectors import visible_credit_notes
from credits.services import REASON_MAX_LENGTH, invoice_cancel
from invoicing.models import Channel
from invoicing.selectors import visible_invoices


@extend_schema_view(
    list=extend_schema(
        summary="List credit notes",
        description=gettext_lazy(
            "Credit notes you may see, newest first, 50 a page: a member sees their own, staff "
            "with `credits.view_creditnote` see all."
        ),
    ),
    retrieve=extend_schema(summary="A credit note with its lines"),
)
class CreditNoteViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = StandardPagination

    def get_queryset(self):
        notes = visible_credit_notes(user=self.request.user)
        if self.action in ("retrieve", "einvoice"):
            notes = notes.select_related("location", "customer").prefetch_related("lines")
        return notes.order_by("-issue_date", "-sequence_number", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CreditNoteDetailSerializer
        return CreditNoteSerializer

    @extend_schema(
        summary="Download the credit-note PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description=gettext_lazy("The PDF, as an attachment.")
            ),
            **problem_responses(
                409,
                _409=gettext_lazy(
                    "The PDF is not rendered yet (`pdf_not_ready`): retry in a minute."
                ),
            ),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[PDFRenderer, JSONRenderer])
    def pdf(self, request, pk=None):
        return credit_note_pdf_response(credit_note=self.get_object())

    @einvoice_schema(summary="Download the credit note as an e-invoice (EN 16931 XML)")
    @action(detail=True, methods=["get"], renderer_classes=[XMLRenderer, JSONRenderer])
    def einvoice(self, request, pk=None):
        note = self.get_object()
        syntax = requested_syntax(request)
        xml = credit_note_einvoice(credit_note=note, syntax=syntax)
        return xml_attachment(xml, number=note.number, syntax=syntax)


class InvoiceCancelViewSet(viewsets.GenericViewSet):
    """``POST /invoices/{id}/cancel``, beside the invoice endpoints (same URL prefix, its
    own router): the invoice is looked up among those the user may see (404 otherwise),
    and ``invoice_cancel`` decides, under its lock, whether this user may cancel it."""

    serializer_class = CancelRequestSerializer
    throttle_scope = "invoice_cancel"

    def get_queryset(self):
        # Only the id is needed: the service locks the row and reads it.
        return visible_invoices(user=self.request.user).only("pk")

    @extend_schema(
        summary="Cancel an invoice: issues a credit note",
        description=gettext_lazy(
            "Cancels the invoice with a credit note for its full total and returns the credit "
            "note (201). Staff need `invoicing.cancel_invoice`; a member may cancel their own "
            "invoice only where the location allows it and nothing has been paid on it. The "
            "channel recorded is `api`. Send an `Idempotency-Key` to retry safely; without "
            "one, a second call gets 409 `invoice_already_cancelled`. Throttled per user."
        ),
        request=CancelRequestSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: OpenApiResponse(
                CreditNoteDetailSerializer,
                description=gettext_lazy("Cancelled; the new credit note."),
            ),
            **problem_responses(
                409,
                422,
                _409=gettext_lazy(
                    "`invoice_already_cancelled`, `invoice_is_draft`, `invoice_paid` (members), "
                    "or `idempotency_key_in_use`."
                ),
                _422=gettext_lazy(
                    "`invalid_input` (e.g. reason longer than %(max)s characters, unknown "
                    "field), `idempotency_key_reused` or `idempotency_key_invalid`."
                )
                % {"max": REASON_MAX_LENGTH},
            ),
        },
        examples=[
            OpenApiExample(
                "With a reason",
                value={"reason": "Booked twice"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], throttle_classes=[ScopedThrottle])
    @idempotent
    def cancel(self, request, pk=None):
        invoice_id = self.get_object().pk
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        credit_note = invoice_cancel(
            invoice=invoice_id,
            actor=request.user,
            reason=body.validated_data["reason"],
            channel=Channel.API,
        )
        credit_note = CreditNote.objects.prefetch_related("lines").get(pk=credit_note.pk)
        data = CreditNoteDetailSerializer(credit_note, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})
