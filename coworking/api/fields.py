"""Serializer fields shared by the API's serializers."""

from rest_framework import serializers

from coworking.money import CENT, DECIMAL_PLACES, MAX_DIGITS, PRICE_DECIMAL_PLACES


class AmountField(serializers.DecimalField):
    """A ``Money`` amount as a decimal string (e.g. ``"-423.50"``); the currency is the
    document's ``currency``. Read-only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)

    def to_representation(self, value):
        return super().to_representation(getattr(value, "amount", value))


class UnitPriceField(AmountField):
    """A unit price as a decimal string with every stored decimal, at least two (up to
    ``PRICE_DECIMAL_PLACES``: ``"0.3349"``, ``"320.00"``). Read-only."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.decimal_places = PRICE_DECIMAL_PLACES
        self.max_digits = MAX_DIGITS + PRICE_DECIMAL_PLACES - DECIMAL_PLACES

    def to_representation(self, value):
        amount = getattr(value, "amount", value)
        if amount == amount.quantize(CENT):
            return format(amount.quantize(CENT), "f")
        return format(amount.normalize(), "f")
