"""Invoice endpoints: list, detail, PDF and cancel. Thin: scope, parse, call, render."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from coworking.api.idempotency import IDEMPOTENCY_KEY_HEADER, idempotent
from coworking.api.pagination import StandardPagination
from coworking.api.renderers import PDFRenderer
from coworking.api.schema import problem_responses
from coworking.api.scoping import visible_invoices
from coworking.api.throttling import ScopedThrottle
from credits.api.serializers import CreditNoteDetailSerializer
from credits.errors import InvoiceIsDraft
from credits.models import CreditNote
from credits.policies import may_cancel
from credits.services import invoice_cancel
from invoicing.api.serializers import (
    CancelRequestSerializer,
    InvoiceDetailSerializer,
    InvoiceFilterSerializer,
    InvoiceSerializer,
)
from invoicing.documents import invoice_pdf_response
from invoicing.models import Channel, Invoice
from invoicing.services import invoice_lock


@extend_schema_view(
    list=extend_schema(
        summary="List invoices",
        description=gettext_lazy(
            "Invoices you may see, newest first, 50 a page: a member sees their own issued "
            "invoices, staff with `invoicing.view_invoice` see all (drafts included)."
        ),
        parameters=[InvoiceFilterSerializer],
    ),
    retrieve=extend_schema(
        summary="An invoice with its lines and payments",
    ),
)
class InvoiceViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = StandardPagination
    serializer_class = InvoiceSerializer
    throttle_scope = "invoice_cancel"  # used by the cancel action's throttle only

    def get_queryset(self):
        invoices = visible_invoices(user=self.request.user)
        if self.action == "cancel":  # only the id is needed: the service locks and reads
            return invoices.only("pk")
        invoices = invoices.select_related("location", "customer", "credit_note")
        if self.action == "retrieve":
            invoices = invoices.prefetch_related("lines", "payments")
        return invoices.order_by("-issue_date", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return InvoiceDetailSerializer
        return InvoiceSerializer

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        filters = InvoiceFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        lookups = {
            "state": "state",
            "currency": "currency",
            "issued_from": "issue_date__gte",
            "issued_to": "issue_date__lte",
        }
        return queryset.filter(
            **{lookups[name]: value for name, value in filters.validated_data.items()}
        )

    @extend_schema(
        summary="Download the invoice PDF",
        description=gettext_lazy(
            "The invoice as issued, rendered once after issue and stored: later payments or a "
            "cancellation do not change it (the credit note is a document of its own)."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description=gettext_lazy("The PDF, as an attachment.")
            ),
            **problem_responses(
                409,
                503,
                _409=gettext_lazy(
                    "A draft has no PDF (`invoice_is_draft`); the PDF is not rendered yet "
                    "(`pdf_not_ready`): retry in a minute."
                ),
                _503=gettext_lazy(
                    "The stored file was lost and is being rendered again (`pdf_unavailable`): "
                    "retry in a minute."
                ),
            ),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[PDFRenderer, JSONRenderer])
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        if invoice.state == Invoice.State.DRAFT:
            raise InvoiceIsDraft(_("A draft invoice has no PDF: issue it first."))
        return invoice_pdf_response(invoice=invoice)

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
                    "`invalid_input` (e.g. reason longer than 1000 characters, unknown field), "
                    "`idempotency_key_reused` or `idempotency_key_invalid`."
                ),
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
        body = CancelRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            invoice = invoice_lock(invoice_id=invoice_id, related=("location",))
            may_cancel(user=request.user, invoice=invoice)
            credit_note = invoice_cancel(
                invoice=invoice,
                actor=request.user,
                reason=body.validated_data["reason"],
                channel=Channel.API,
            )
        credit_note = CreditNote.objects.prefetch_related("lines").get(pk=credit_note.pk)
        data = CreditNoteDetailSerializer(credit_note, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})
