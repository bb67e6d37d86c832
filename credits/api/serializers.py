"""Credit-note representations of the API (read-only) and the bodies of a cancel request and
of a credit-note request."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coworking.api.fields import AmountField
from coworking.api.serializers import StrictSerializer
from coworking.api.serializing import ModelSerializer, StaffOnlyFieldsMixin
from coworking.decimals import PlainDecimalField
from coworking.text import single_line
from credits.models import CreditNote, CreditNoteAllowanceCharge, CreditNoteLine, ReasonCode
from credits.services.requests import REASON_MAX_LENGTH
from invoicing.api.serializers import AllowanceChargeSerializer, InvoiceLineSerializer, absolute


class CreditNoteLineSerializer(InvoiceLineSerializer):
    """An invoice line's shape; the quantity and amounts carry the reversed sign.
    ``invoice_line`` is the id of the invoice line it credits (null for a free amount)."""

    class Meta(InvoiceLineSerializer.Meta):
        model = CreditNoteLine
        fields = [
            *(name for name in InvoiceLineSerializer.Meta.fields if name != "allowance_percent"),
            "invoice_line",
        ]
        read_only_fields = fields


class CreditNoteSerializer(StaffOnlyFieldsMixin, ModelSerializer):
    """A credit note. Its free-text ``reason`` is internal: only staff (who may view every
    credit note) read it; a member reads the reason code and its label."""

    staff_only_fields = ("reason",)
    staff_permission = "credits.view_creditnote"

    net_total = AmountField()
    tax_total = AmountField()
    total = AmountField()
    amount_off_due = AmountField(help_text=_("What the note took off the invoice's amount due."))
    account_credit_amount = AmountField(help_text=_("What became account credit."))
    refund_amount = AmountField(help_text=_("What is paid back to the customer."))
    settled_outside_amount = AmountField(help_text=_("What was settled outside the system."))
    reason = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_(
            "Internal note of staff: null unless you are staff (never shown to customers)."
        ),
    )
    reason_label = serializers.CharField(
        source="get_reason_code_display",
        read_only=True,
        help_text=_("The reason code's label in the request's language, as the customer reads it."),
    )
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
            "reason_code",
            "reason_label",
            "cancels_invoice",
            "amount_off_due",
            "account_credit_amount",
            "refund_amount",
            "settled_outside_amount",
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


class CreditNoteAllowanceChargeSerializer(AllowanceChargeSerializer):
    class Meta(AllowanceChargeSerializer.Meta):
        model = CreditNoteAllowanceCharge  # type: ignore[assignment]


class CreditNoteDetailSerializer(CreditNoteSerializer):
    lines = CreditNoteLineSerializer(many=True, read_only=True)
    allowance_charges = CreditNoteAllowanceChargeSerializer(many=True, read_only=True)

    class Meta(CreditNoteSerializer.Meta):
        fields = [*CreditNoteSerializer.Meta.fields, "lines", "allowance_charges"]
        read_only_fields = fields


class StrictCharField(serializers.CharField):
    """A string, and only a string: numbers and booleans are refused, not converted."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CancelRequestSerializer(StrictSerializer):
    """The body of ``POST /invoices/{id}/cancel``; unknown fields are refused."""

    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        default="",
        help_text=_(
            "Why the invoice is cancelled, for the back-office (never printed: the "
            "customer reads the reason code's label)."
        ),
    )


class LineCreditSerializer(StrictSerializer):
    invoice_line = serializers.IntegerField(
        help_text=_("The id of a line of this invoice (``lines[].id`` of the invoice).")
    )
    quantity = PlainDecimalField(
        max_digits=10,
        decimal_places=3,
        min_value=Decimal("0.001"),
        help_text=_("How much of it to credit (positive)."),
    )


class AmountCreditSerializer(StrictSerializer):
    value = PlainDecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("The net amount to credit (positive)."),
    )
    tax_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, help_text=_("A tax rate (%) of the invoice's lines.")
    )
    description = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        validators=[single_line],
        help_text=_("Printed as the line's description: one line."),
    )


class CreditNoteRequestSerializer(StrictSerializer):
    """The body of ``POST /invoices/{id}/credit-notes``; unknown fields are refused."""

    lines = LineCreditSerializer(many=True, required=False, default=list)
    amount = AmountCreditSerializer(required=False, allow_null=True, default=None)
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        default="",
        help_text=_(
            "Why the invoice is credited, for the back-office (never printed: the "
            "customer reads the reason code's label)."
        ),
    )
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices, default=ReasonCode.OTHER)
    refund_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        default=None,
        help_text=_("Of what is credited beyond the amount due, how much is paid back."),
    )
    settled_outside_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        default=None,
        help_text=_("Of what is credited beyond the amount due, how much was settled outside."),
    )
