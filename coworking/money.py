"""Money in one place: the field definition, the rounding rule, exact sums in the database
and the one way an amount is written for people.

Every amount in the project is a ``Money`` (django-money) backed by ``Decimal`` with the
currency's minor unit (two decimal places for every currency the operator bills in).
Amounts are rounded once, by :func:`round_amount`, half-up to the minor unit, when a line's
net and tax are computed; every total is a plain sum of rounded amounts, so totals never
drift from their lines. Sums in the database go through :class:`MoneySum`, and arithmetic
on amounts that the database compares through :func:`exact_money`: exact on PostgreSQL
and on the embedded SQLite alike. Amounts are shown by :func:`format_money`
(plain text: PDFs, e-mails) and :func:`money_html` (pages), never by ``str(Money)``.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision
from django.conf import settings
from django.db.models import DecimalField, Sum, Window
from django.db.models.functions import Round
from django.utils.html import format_html
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from coworking.l10n import cldr_locale

MAX_DIGITS = 14
DECIMAL_PLACES = 2
CENT = Decimal(1).scaleb(-DECIMAL_PLACES)
CURRENCY_CHOICES = [(code, code) for code in settings.CURRENCIES]
# Amounts are stored with DECIMAL_PLACES: a currency with a finer minor unit cannot be billed.
assert all(get_currency_precision(code) <= DECIMAL_PLACES for code in settings.CURRENCIES)


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


def minor_unit(currency: str | None) -> Decimal:
    """The smallest amount of ``currency`` (its CLDR digits): ``0.01`` for EUR."""
    if currency is None:
        return CENT
    return Decimal(1).scaleb(-get_currency_precision(str(currency)))


def round_amount(value: Decimal, *, currency: str | None = None) -> Decimal:
    """The one rounding rule: half-up to the currency's minor unit (the cent by default)."""
    if isinstance(value, float):
        raise TypeError("Money is never a float; pass a Decimal.")
    return Decimal(value).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def money_sum(amounts, *, currency: str) -> Money:
    """Sum ``Money`` values that must all be in ``currency``; mixing raises ``ValueError``."""
    total = Decimal("0.00")
    for amount in amounts:
        if str(amount.currency) != currency:
            raise ValueError(f"Cannot add {amount.currency} to a {currency} total.")
        total += amount.amount
    return Money(total, currency)


class ExactSum(Sum):
    """``Sum`` of a decimal column with ``decimal_places`` decimals, exact on every database.

    PostgreSQL sums ``numeric`` exactly. SQLite (the embedded default) keeps decimals as
    binary floats and sums them in floating point, so a sum can come back as
    ``988.570000000000`` or a balance as ``3.69E-13``: there each value is summed as a whole
    number of its smallest unit (cents for money), an exact integer sum, turned back into a
    ``Decimal`` here. On SQLite the SQL value is that integer: compare the result in Python,
    never inside another SQL expression.
    """

    def __init__(self, expression, *, decimal_places: int, **extra):
        self.decimal_places = decimal_places
        extra.setdefault(
            "output_field", DecimalField(max_digits=MAX_DIGITS + 6, decimal_places=decimal_places)
        )
        super().__init__(expression, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        # A stored value has at most decimal_places decimals: ROUND(x * 10^places) is exact.
        scale = 10**self.decimal_places
        template = f"%(function)s(%(distinct)sCAST(ROUND((%(expressions)s) * {scale}) AS INTEGER))"
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def convert_value(self, value, expression, connection):
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return Decimal(int(value)).scaleb(-self.decimal_places)
        return Decimal(value).quantize(Decimal(1).scaleb(-self.decimal_places))


class MoneySum(ExactSum):
    """:class:`ExactSum` of a money column (or of arithmetic on money columns), in cents."""

    def __init__(self, expression, **extra):
        super().__init__(expression, decimal_places=DECIMAL_PLACES, **extra)


def exact_money(expression) -> Round:
    """Arithmetic on money columns inside the database, rounded to the cent there, so that a
    comparison with another amount (in a check constraint, a filter, ``Greatest``) is exact.

    On PostgreSQL the rounding changes nothing (``numeric`` adds exactly). On SQLite each
    amount is the binary float nearest to it, and their sum or difference is off by a few
    ulps (229.15 + 229.14 = 458.28999999999996); rounded, it is the float nearest to the
    exact result again, the same float a stored amount of that value is.
    """
    return Round(
        expression,
        DECIMAL_PLACES,
        output_field=DecimalField(max_digits=MAX_DIGITS + 2, decimal_places=DECIMAL_PLACES),
    )


class MoneyRunningSum(Window):
    """A running :class:`MoneySum` (a window), as exact: ``MoneyRunningSum("amount",
    partition_by=[...], order_by=[...])`` is the balance after each row."""

    def __init__(self, expression, **window):
        super().__init__(MoneySum(expression), **window)

    def convert_value(self, value, expression, connection):
        return self.source_expression.convert_value(value, expression, connection)


def format_money(
    value: Money | Decimal, currency: str | None = None, *, language: str | None = None
) -> str:
    """The one way an amount is written: rounded to the currency's minor unit (the one
    rounding rule), with the currency's symbol and the thousands separators of the language
    (the active one by default; CLDR conventions, ``coworking.l10n``), and non-breaking
    spaces only, so the amount never wraps: ``€1,975.63``, ``-£12.00``, ``1 975,63 €``.
    """
    if isinstance(value, Money):
        value, currency = value.amount, str(value.currency)
    if currency is None:
        raise ValueError("An amount without a currency cannot be formatted.")
    text = format_currency(
        round_amount(value, currency=currency),
        currency,
        locale=cldr_locale(language),
        currency_digits=True,
    )
    # CLDR separates a letter symbol from the digits (``CHF 12.00``); Babel does not.
    text = _LETTER_NEXT_TO_DIGIT.sub("\u00a0", text)
    return text.replace(" ", "\u00a0")


_LETTER_NEXT_TO_DIGIT = re.compile(r"(?<=[A-Za-z])(?=-?\d)|(?<=\d)(?=[A-Za-z])")


def money_html(value: Money | Decimal, currency: str | None = None) -> str:
    """:func:`format_money` for a page: one element that never wraps (a minus sign included),
    with the currency and the exact amount as data for scripts and tests."""
    if isinstance(value, Money):
        currency = str(value.currency)
    return format_html(
        '<span class="money" style="white-space: nowrap" data-currency="{}">{}</span>',
        currency,
        format_money(value, currency),
    )
