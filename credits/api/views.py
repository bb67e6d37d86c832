"""Credit-note endpoints (list, detail, PDF download), cancelling an invoice
(``POST /invoices/{id}/cancel``) and crediting part of one (``POST /invoices/{id}/credit-notes``).
Thin: scope, parse, call, render."""

from django.utils.translation import gettext_lazy
from djmoney.money import Money
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from coworking.api.documents import einvoice_download, pdf_download
from coworking.api.idempotency import IDEMPOTENCY_KEY_HEADER, idempotent
from coworking.api.pagination import KeysetPagination
from coworking.api.schema import problem_responses
from coworking.api.throttling import ScopedThrottle
from credits.api.serializers import (
    CancelRequestSerializer,
    CreditNoteDetailSerializer,
    CreditNoteRequestSerializer,
    CreditNoteSerializer,
)
from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.selectors import visible_credit_notes
from credits.services.issue import credit_note_issue, invoice_cancel
from credits.services.requests import REASON_MAX_LENGTH, Allocation, AmountCredit, LineCredit
from invoicing.models import Channel
from invoicing.selectors import visible_invoices


@extend_schema_view(
    list=extend_schema(
        summary="List credit notes",
        description=gettext_lazy(
            "Credit notes you may see, newest first, 50 a page: a member sees their own, staff "
            "with `credits.view_creditnote` see all. Follow `next` for the following page."
        ),
        responses={
            200: CreditNoteSerializer(many=True),
            **problem_responses(
                422,
                _422=gettext_lazy(
                    "`invalid_input`: a `page_size` out of its range or a `cursor` that is "
                    "not one of a response's links."
                ),
            ),
        },
    ),
    retrieve=extend_schema(summary="A credit note with its lines"),
)
class CreditNoteViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = KeysetPagination
    keyset_ordering = ("issue_date", "sequence_number", "id")  # indexed in CreditNote.Meta

    def get_queryset(self):
        notes = visible_credit_notes(user=self.request.user)
        if self.action in ("retrieve", "einvoice"):
            notes = notes.select_related("location", "customer").prefetch_related(
                "lines", "allowance_charges"
            )
        return notes.order_by("-issue_date", "-sequence_number", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CreditNoteDetailSerializer
        return CreditNoteSerializer

    document_kind = CREDIT_NOTE_DOCUMENT
    pdf = pdf_download(
        summary="Download the credit-note PDF",
        conflict=gettext_lazy("The PDF is not rendered yet (`pdf_not_ready`): retry in a minute."),
    )
    einvoice = einvoice_download(summary="Download the credit note as an e-invoice (EN 16931 XML)")


class InvoiceCancelViewSet(viewsets.GenericViewSet):
    """``POST /invoices/{id}/cancel``, beside the invoice endpoints (same URL prefix, its
    own router): the invoice is looked up among those the user may see (404 otherwise),
    and ``invoice_cancel`` decides, under its lock, whether this user may cancel it."""

    serializer_class = CancelRequestSerializer
    throttle_scope = "invoice_cancel"

    def get_queryset(self):
        # The service locks the row and reads it: only the id (and the currency of amounts
        # in the request) is needed here.
        return visible_invoices(user=self.request.user).only("pk", "currency")

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
        # The service's note is complete but for its lines (written by INSERT ... SELECT),
        # which the serializer reads: one query.
        data = CreditNoteDetailSerializer(credit_note, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})

    @extend_schema(
        summary="Credit part of an invoice: issues a credit note",
        description=gettext_lazy(
            "Credits quantities of the invoice's lines (`lines[].invoice_line` is a line's "
            "`id` in the invoice detail) and/or a net `amount` at one of its tax rates, and "
            "returns the credit note (201). What it credits first reduces the amount due; the "
            "rest becomes account credit unless `refund_amount` / `settled_outside_amount` "
            "say otherwise. An invoice credited in full is cancelled. Staff with "
            "`invoicing.issue_credit_note` only; members never. The channel recorded is "
            "`api`. Send an `Idempotency-Key` to retry safely."
        ),
        request=CreditNoteRequestSerializer,
        parameters=[IDEMPOTENCY_KEY_HEADER],
        responses={
            201: OpenApiResponse(
                CreditNoteDetailSerializer, description=gettext_lazy("The new credit note.")
            ),
            **problem_responses(
                403,
                409,
                422,
                _403=gettext_lazy("`credit_not_allowed`."),
                _409=gettext_lazy(
                    "`nothing_left_to_credit`, `invoice_is_draft` or `idempotency_key_in_use`."
                ),
                _422=gettext_lazy(
                    "`credit_note_invalid` (neither lines nor an amount), "
                    "`credit_line_not_on_invoice`, `tax_rate_not_on_invoice`, "
                    "`credit_exceeds_line`, `credit_exceeds_rate`, `credit_allocation_invalid`, "
                    "`invalid_input`, `idempotency_key_reused`. A body valid for this schema "
                    "can still be refused by what the invoice holds (its lines, rates and what "
                    "is left of them)."
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "Two day passes not used",
                value={
                    "lines": [{"invoice_line": 123, "quantity": "2"}],
                    "reason": "Two day passes not used",
                    "reason_code": "service_not_used",
                },
                request_only=True,
            ),
            OpenApiExample(
                "A goodwill amount",
                value={
                    "amount": {"value": "50.00", "tax_rate": "21", "description": "Goodwill"},
                    "reason_code": "goodwill",
                },
                request_only=True,
            ),
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="credit-notes",
        throttle_classes=[ScopedThrottle],
        serializer_class=CreditNoteRequestSerializer,
    )
    @idempotent
    def credit_notes(self, request, pk=None):
        invoice = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data

        def money(value):
            return None if value is None else Money(value, invoice.currency)

        amount = data["amount"]
        credit_note = credit_note_issue(
            invoice=invoice.pk,
            lines=[LineCredit(line["invoice_line"], line["quantity"]) for line in data["lines"]],
            amount=None
            if amount is None
            else AmountCredit(money(amount["value"]), amount["tax_rate"], amount["description"]),
            reason=data["reason"],
            reason_code=data["reason_code"],
            actor=request.user,
            channel=Channel.API,
            allocation=Allocation(
                refund=money(data["refund_amount"]),
                settled_outside=money(data["settled_outside_amount"]),
            ),
        )
        data = CreditNoteDetailSerializer(credit_note, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})
