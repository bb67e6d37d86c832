"""Invoice representations of the API (read-only) and the query filters of the list."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from coworking.api.fields import AmountField, UnitPriceField
from coworking.api.serializing import ModelSerializer, StaffOnlyFieldsMixin
from coworking.money import CURRENCY_CHOICES
from invoicing.corrections import invoice_corrections
from invoicing.models import Channel, Invoice, InvoiceAllowanceCharge, InvoiceLine, Payment


def absolute(request, name: str, pk: int) -> str:
    url = reverse(name, kwargs={"pk": pk})
    return request.build_absolute_uri(url) if request is not None else url


class InvoiceLineSerializer(ModelSerializer):
    unit_price = UnitPriceField()
    net = AmountField()
    tax = AmountField()
    gross = AmountField()
    allowance = AmountField(help_text="The line's discount, taken off quantity × unit price.")
    allowance_reason_code = serializers.CharField(
        read_only=True, help_text="UNTDID 5189 code of the discount's reason; empty: none."
    )

    class Meta:
        model = InvoiceLine
        fields = ["position", "description", "quantity", "unit_price", "tax_rate", "net", "tax"]
        fields += ["gross", "allowance", "allowance_percent", "allowance_reason"]
        fields += ["allowance_reason_code"]
        read_only_fields = fields


class InvoiceLineDetailSerializer(InvoiceLineSerializer):
    """An invoice line with its ``id``: what ``POST /invoices/{id}/credit-notes`` names."""

    class Meta(InvoiceLineSerializer.Meta):
        fields = ["id", *InvoiceLineSerializer.Meta.fields]
        read_only_fields = fields


class AllowanceChargeSerializer(ModelSerializer):
    """A document level discount or charge (EN 16931 BG-20/BG-21), positive: ``kind``
    says which way it moves the net total."""

    amount = AmountField(help_text="Positive; a discount lowers the net total, a charge adds.")
    base_amount = AmountField(
        allow_null=True, help_text="What the percentage is of (BT-93/BT-100); null: an amount."
    )
    reason_code = serializers.CharField(
        read_only=True,
        help_text="UNTDID 5189 code (discount) or UNTDID 7161 code (charge); empty: none.",
    )

    class Meta:
        model = InvoiceAllowanceCharge
        fields = ["position", "kind", "amount", "base_amount", "percent", "vat_category"]
        fields += ["tax_rate", "reason", "reason_code"]
        read_only_fields = fields


class PaymentSerializer(ModelSerializer):
    amount = AmountField()

    class Meta:
        model = Payment
        fields = ["id", "amount", "method", "received_on", "reference"]
        read_only_fields = fields


class InvoiceSerializer(ModelSerializer):
    net_total = AmountField()
    tax_total = AmountField()
    total = AmountField()
    amount_paid = AmountField()
    amount_due = AmountField()
    credited_total = AmountField(
        source="amount_credited", help_text=_("What its credit notes credit, in all.")
    )
    location_name = serializers.CharField(source="location.name", read_only=True)
    customer_name = serializers.CharField(source="customer.billing_name", read_only=True)
    totals_final = serializers.SerializerMethodField(
        help_text=_(
            "False for a draft: its totals are computed from its current lines and may "
            "change until it is issued."
        )
    )
    credit_note = serializers.SerializerMethodField(
        help_text=_("The credit note that cancelled this invoice (credited what was left), if any.")
    )
    url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "url",
            "number",
            "state",
            "location",
            "location_name",
            "customer",
            "customer_name",
            "currency",
            "issue_date",
            "due_date",
            "net_total",
            "tax_total",
            "total",
            "amount_paid",
            "amount_due",
            "totals_final",
            "credited_total",
            "cancelled_at",
            "credit_note",
            "pdf_url",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "url": {"type": "string", "format": "uri"},
            },
            "required": ["id", "number", "url"],
        }
    )
    def get_credit_note(self, invoice):
        note = next((n for n in invoice_corrections(invoice) if n.cancels_invoice), None)
        if note is None:
            return None
        return {
            "id": note.id,
            "number": note.number,
            "url": absolute(self.context.get("request"), note.api_view, note.id),
        }

    def get_totals_final(self, invoice) -> bool:
        return invoice.state != Invoice.State.DRAFT

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, invoice) -> str:
        return absolute(self.context.get("request"), "api:invoice-detail", invoice.pk)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_pdf_url(self, invoice):
        if invoice.state == Invoice.State.DRAFT:
            return None
        return absolute(self.context.get("request"), "api:invoice-pdf", invoice.pk)


class CancellationSerializer(StaffOnlyFieldsMixin, ModelSerializer):
    """When and through which channel an invoice was cancelled, and why: the reason code of
    the credit note that cancelled it (and its label, as the customer reads it); the
    free-text ``reason`` is internal, shown to staff (who may view every invoice) only."""

    staff_only_fields = ("reason",)
    staff_permission = "invoicing.view_invoice"

    channel = serializers.ChoiceField(
        source="cancellation_channel", choices=Channel.choices, read_only=True
    )
    reason = serializers.CharField(
        source="cancellation_reason",
        read_only=True,
        allow_null=True,
        help_text=_(
            "Internal note of staff: null unless you are staff (never shown to customers)."
        ),
    )
    reason_code = serializers.SerializerMethodField()
    reason_label = serializers.SerializerMethodField(
        help_text=_("The reason code's label in the request's language, as the customer reads it.")
    )

    class Meta:
        model = Invoice
        fields = ["cancelled_at", "channel", "reason", "reason_code", "reason_label"]
        read_only_fields = fields

    @staticmethod
    def _cancelling_note(invoice):
        notes = [note for note in invoice_corrections(invoice) if note.cancels_invoice]
        return notes[-1] if notes else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_reason_code(self, invoice):
        note = self._cancelling_note(invoice)
        return note.reason_code if note is not None else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_reason_label(self, invoice):
        note = self._cancelling_note(invoice)
        return note.reason_label if note is not None else None


class InvoiceDetailSerializer(InvoiceSerializer):
    cancellation = serializers.SerializerMethodField(
        help_text=_("When, through which channel and why it was cancelled; null if it is not.")
    )
    lines = InvoiceLineDetailSerializer(many=True, read_only=True)
    allowance_charges = AllowanceChargeSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    credit_notes = serializers.SerializerMethodField(
        help_text=_("Its credit notes, oldest first (partial ones and the one that cancelled it).")
    )

    class Meta(InvoiceSerializer.Meta):
        fields = [
            *InvoiceSerializer.Meta.fields,
            "cancellation",
            "lines",
            "allowance_charges",
            "payments",
            "credit_notes",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "number": {"type": "string"},
                    "issue_date": {"type": "string", "format": "date"},
                    "total": {"type": "string", "format": "decimal"},
                    "cancels_invoice": {"type": "boolean"},
                    "url": {"type": "string", "format": "uri"},
                },
                "required": ["id", "number", "issue_date", "total", "cancels_invoice", "url"],
            },
        }
    )
    def get_credit_notes(self, invoice):
        request = self.context.get("request")
        return [
            {
                "id": note.id,
                "number": note.number,
                "issue_date": note.issue_date.isoformat(),
                "total": AmountField().to_representation(note.total),
                "cancels_invoice": note.cancels_invoice,
                "url": absolute(request, note.api_view, note.id),
            }
            for note in sorted(invoice_corrections(invoice), key=lambda note: note.id)
        ]

    @extend_schema_field(CancellationSerializer(allow_null=True))
    def get_cancellation(self, invoice):
        if invoice.state != Invoice.State.CANCELLED:
            return None
        return CancellationSerializer(invoice, context=self.context).data


class InvoiceFilterSerializer(serializers.Serializer):
    """Query parameters of the invoice list; an invalid value is a 422 problem."""

    state = serializers.ChoiceField(
        choices=Invoice.State.choices, required=False, help_text=_("Only invoices in this state.")
    )
    currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES, required=False, help_text=_("Only invoices in this currency.")
    )
    issued_from = serializers.DateField(
        required=False, help_text=_("Only invoices issued on or after this date.")
    )
    issued_to = serializers.DateField(
        required=False, help_text=_("Only invoices issued on or before this date.")
    )

    def validate(self, attrs):
        start, end = attrs.get("issued_from"), attrs.get("issued_to")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"issued_to": _("The end of the date range is before its start.")},
                code="invalid_range",
            )
        return attrs
