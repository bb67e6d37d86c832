"""Money in one place: the field definition, the rounding rule and currency checks.

Every amount in the project is a ``Money`` (django-money) backed by ``Decimal`` with two
decimal places. Amounts are rounded once, by :func:`round_amount`, half-up to the cent,
when a line's net and tax are computed; every total is a plain sum of rounded amounts, so
totals never drift from their lines.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from djmoney.models.fields import MoneyField
from djmoney.money import Money

CENT = Decimal("0.01")
MAX_DIGITS = 14
DECIMAL_PLACES = 2
CURRENCY_CHOICES = [(code, code) for code in settings.CURRENCIES]


def money_field(verbose_name: str, **kwargs) -> MoneyField:
    """The project's only money field: 14 digits, 2 decimals, a known currency."""
    kwargs.setdefault("default_currency", None)
    return MoneyField(
        verbose_name,
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        currency_choices=CURRENCY_CHOICES,
        **kwargs,
    )


def round_amount(value: Decimal) -> Decimal:
    """The one rounding rule: half-up to the cent."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a Decimal.")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_sum(amounts, *, currency: str) -> Money:
    """Sum ``Money`` values that must all be in ``currency``; mixing raises ``ValueError``."""
    total = Decimal("0.00")
    for amount in amounts:
        if str(amount.currency) != currency:
            raise ValueError(f"Cannot add {amount.currency} to a {currency} total.")
        total += amount.amount
    return Money(total, currency)
