"""Ledger, balance and "me" representations of the API (read-only), and
``StrictSerializer``, the base of request bodies that refuse unknown fields."""

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coworking.api.fields import AmountField
from coworking.api.serializing import ModelSerializer
from coworking.models import Customer, LedgerEntry
from coworking.money import CURRENCY_CHOICES


class StrictSerializer(serializers.Serializer):
    """Unknown fields are refused rather than ignored (422 ``unknown_field``); the schema
    says so (``additionalProperties: false``, ``coworking.api.schema``)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {str(name): [_("Unknown field.")] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


class LedgerEntrySerializer(ModelSerializer):
    amount = AmountField(help_text=_("Positive: the customer owes more; negative: a credit."))
    currency = serializers.CharField(source="amount_currency", read_only=True)
    description = serializers.CharField(
        source="display_description",
        read_only=True,
        help_text=_("In the language of the request, composed from the entry's documents."),
    )
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    credit_note_number = serializers.CharField(
        source="credit_note.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "amount",
            "currency",
            "description",
            "created_at",
            "invoice",
            "invoice_number",
            "payment",
            "credit_note",
            "credit_note_number",
        ]
        read_only_fields = fields


class LedgerFilterSerializer(serializers.Serializer):
    currency = serializers.ChoiceField(
        choices=CURRENCY_CHOICES, required=False, help_text=_("Only entries in this currency.")
    )


class BalanceLineSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = AmountField(help_text=_("Negative: credit the customer holds."))


class BalanceSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    balances = BalanceLineSerializer(many=True, help_text=_("One line per currency used."))


class PortalCustomerSerializer(ModelSerializer):
    location_name = serializers.CharField(source="location.name", read_only=True)
    members_may_cancel = serializers.BooleanField(
        source="location.members_may_cancel", read_only=True
    )

    class Meta:
        model = Customer
        fields = ["id", "billing_name", "location", "location_name", "members_may_cancel"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    customer = PortalCustomerSerializer(
        allow_null=True, help_text=_("The customer you are the portal user of, if any.")
    )
