"""Credit-note representations of the API (read-only) and the body of a cancel request."""

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coworking.api.fields import AmountField
from credits.models import CreditNote, CreditNoteLine
from credits.services import REASON_MAX_LENGTH
from invoicing.api.serializers import InvoiceLineSerializer, absolute


class CreditNoteLineSerializer(InvoiceLineSerializer):
    """An invoice line's shape; the quantity and amounts carry the reversed sign."""

    class Meta(InvoiceLineSerializer.Meta):
        model = CreditNoteLine


class CreditNoteSerializer(serializers.ModelSerializer):
    net_total = AmountField()
    tax_total = AmountField()
    total = AmountField()
    url = serializers.SerializerMethodField()
    invoice_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "url",
            "number",
            "issue_date",
            "location",
            "customer",
            "invoice",
            "invoice_url",
            "invoice_number",
            "invoice_issue_date",
            "currency",
            "net_total",
            "tax_total",
            "total",
            "reason",
            "channel",
            "created_at",
            "pdf_status",
            "pdf_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, note) -> str:
        return absolute(self.context.get("request"), "api:creditnote-detail", note.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_invoice_url(self, note) -> str:
        return absolute(self.context.get("request"), "api:invoice-detail", note.invoice_id)

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, note) -> str:
        """Always present; the download answers 409 ``pdf_not_ready`` until it is rendered."""
        return absolute(self.context.get("request"), "api:creditnote-pdf", note.pk)


class CreditNoteDetailSerializer(CreditNoteSerializer):
    lines = CreditNoteLineSerializer(many=True, read_only=True)

    class Meta(CreditNoteSerializer.Meta):
        fields = [*CreditNoteSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class StrictCharField(serializers.CharField):
    """A string, and only a string: numbers and booleans are refused, not converted."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CancelRequestSerializer(serializers.Serializer):
    """The body of ``POST /invoices/{id}/cancel``; unknown fields are refused."""

    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        default="",
        help_text=_("Why the invoice is cancelled; printed on the credit note."),
    )

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {str(name): [_("Unknown field.")] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)
