"""Serializer fields shared by the API's serializers."""

from rest_framework import serializers

from coworking.money import DECIMAL_PLACES, MAX_DIGITS


class AmountField(serializers.DecimalField):
    """A ``Money`` amount as a decimal string (e.g. ``"-423.50"``); the currency is the
    document's ``currency``. Read-only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)

    def to_representation(self, value):
        return super().to_representation(getattr(value, "amount", value))
