"""Ledger, balance and "me" representations of the API (read-only), and
``StrictSerializer``, the base of request bodies that refuse unknown fields."""

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coworking.api.fields import AmountField
from coworking.api.serializing import ModelSerializer
from coworking.models import Customer, LedgerEntry
from coworking.money import CURRENCY_CHOICES
from coworking.registry import ledger_source


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


class _FromSource(serializers.Field):
    """A value the app that posted the entry gives (``coworking.registry.LedgerSource.api``);
    left out of the entry's representation where that app gives none."""

    def get_attribute(self, instance):
        source = ledger_source(instance.kind)
        values = source.api(instance) if source is not None else {}
        name = self.field_name or ""
        if name not in values:
            raise serializers.SkipField()
        return values[name]


class _SourceId(_FromSource, serializers.IntegerField):
    pass


class _SourceText(_FromSource, serializers.CharField):
    pass


class LedgerEntrySerializer(ModelSerializer):
    amount = AmountField(help_text=_("Positive: the customer owes more; negative: a credit."))
    currency = serializers.CharField(source="amount_currency", read_only=True)
    description = serializers.CharField(
        source="display_description",
        read_only=True,
        help_text=_("In the language of the request, composed from the entry's documents."),
    )
    # The documents an entry names, as the apps that post entries give them.
    invoice = _SourceId(read_only=True, allow_null=True)
    invoice_number = _SourceText(read_only=True)
    payment = _SourceId(read_only=True, allow_null=True)
    credit_note = _SourceId(read_only=True, allow_null=True)
    credit_note_number = _SourceText(read_only=True, allow_null=True)

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
