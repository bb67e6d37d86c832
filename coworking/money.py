"""Money in one place: the field definition, the rounding rule, exact sums in the database
and the one way an amount is written for people.

Every amount in the project is a ``Money`` (django-money) backed by ``Decimal`` with the
currency's minor unit (two decimal places for every currency the operator bills in).
Amounts are rounded once, by :func:`round_amount`, half-up to the minor unit, when a line's
net and tax are computed; every total is a plain sum of rounded amounts, so totals never
drift from their lines. Sums in the database go through :class:`MoneySum`, and arithmetic
on amounts that the database compares through :func:`exact_money`: exact on PostgreSQL
and on the embedded SQLite alike. Amounts are shown by :func:`format_money`
(plain text: PDFs, e-mails) and :func:`money_html` (pages), never by ``str(Money)``; an
amount a person types is read by :func:`parse_amount`.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_group_symbol,
    parse_decimal,
)
from django.conf import settings
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Round
from django.utils.functional import Promise
from django.utils.html import format_html
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from coworking.l10n import cldr_locale

MAX_DIGITS = 14
DECIMAL_PLACES = 2
# A unit price is stored with up to 4 decimals (0.3349 per printed page), a quantity with
# up to 3 (``DocumentLine.quantity``); more precision is refused, never rounded away.
PRICE_DECIMAL_PLACES = 4
CENT = Decimal(1).scaleb(-DECIMAL_PLACES)
CURRENCY_CHOICES = [(code, code) for code in settings.CURRENCIES]
# Amounts are stored with DECIMAL_PLACES: a currency with a finer minor unit cannot be billed.
assert all(get_currency_precision(code) <= DECIMAL_PLACES for code in settings.CURRENCIES)


def money_field(verbose_name: str | Promise, **kwargs) -> MoneyField:
    """The project's only money field: 14 digits, 2 decimals, a known currency."""
    kwargs.setdefault("default_currency", None)
    return MoneyField(
        verbose_name,
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        currency_choices=CURRENCY_CHOICES,
        **kwargs,
    )


def unit_price_field(verbose_name: str | Promise, **kwargs) -> MoneyField:
    """The money field of a unit price: as :func:`money_field`, with
    ``PRICE_DECIMAL_PLACES`` decimals, so a line's net is exactly ``quantity × price``
    rounded once, with the price as stored and printed."""
    kwargs.setdefault("default_currency", None)
    return MoneyField(
        verbose_name,
        max_digits=MAX_DIGITS + PRICE_DECIMAL_PLACES - DECIMAL_PLACES,
        decimal_places=PRICE_DECIMAL_PLACES,
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


def in_whole_cents(value: Decimal, *, currency: str | None = None) -> bool:
    """Whether ``value`` is exact to the currency's minor unit (the cent by default): what
    every amount a service takes must be."""
    return round_amount(value, currency=currency) == value


def converted(amount: Decimal, *, rate: Decimal) -> Decimal:
    """``amount`` at an exchange ``rate`` (a document's VAT in its VAT currency), rounded
    once, to the cent."""
    return round_amount(amount * rate)


def money_sum(amounts, *, currency: str) -> Money:
    """Sum ``Money`` values that must all be in ``currency``; mixing raises ``ValueError``."""
    total = Decimal("0.00")
    for amount in amounts:
        if str(amount.currency) != currency:
            raise ValueError(f"Cannot add {amount.currency} to a {currency} total.")
        total += amount.amount
    return Money(total, currency)


def _sum_field(decimal_places: int = DECIMAL_PLACES) -> DecimalField:
    return DecimalField(max_digits=MAX_DIGITS + 6, decimal_places=decimal_places)


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
        extra.setdefault("output_field", _sum_field(decimal_places))
        super().__init__(expression, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        # A stored value has at most decimal_places decimals: ROUND(x * 10^places) is exact.
        scale = 10**self.decimal_places
        template = f"%(function)s(%(distinct)sCAST(ROUND((%(expressions)s) * {scale}) AS INTEGER))"
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def convert_value(self, value, expression, connection):
        return _summed_value(value, connection, decimal_places=self.decimal_places)


def _summed_value(value, connection, *, decimal_places: int = DECIMAL_PLACES) -> Decimal | None:
    if value is None:
        return None
    if connection.vendor == "sqlite":
        return Decimal(int(value)).scaleb(-decimal_places)
    return Decimal(value).quantize(Decimal(1).scaleb(-decimal_places))


class MoneySum(ExactSum):
    """:class:`ExactSum` of a money column (or of arithmetic on money columns), in cents."""

    def __init__(self, expression, **extra):
        super().__init__(expression, decimal_places=DECIMAL_PLACES, **extra)


class SummedMoney(ExpressionWrapper):
    """An expression made of :class:`MoneySum` results (a sum in a subquery, a difference
    of two), read back as exactly as ``MoneySum`` itself: SQLite computes it in whole cents.
    Only sums (and zero) may enter it, never a money column as such."""

    def __init__(self, expression):
        super().__init__(expression, output_field=_sum_field())

    def convert_value(self, value, expression, connection):
        return _summed_value(value, connection)


def money_sum_subquery(rows: QuerySet, expression, *, per: str) -> SummedMoney:
    """The :class:`MoneySum` of ``expression`` over ``rows`` (filtered on an ``OuterRef``,
    e.g. one customer's entries in one currency) as a value of the outer row: ``NULL`` when
    there is no row. ``per`` is the column the filter holds to one value (``"customer"``)."""
    total = rows.order_by().values(per).annotate(money_sum=MoneySum(expression))
    return SummedMoney(Subquery(total.values("money_sum")))


def or_zero(summed) -> SummedMoney:
    """A summed amount (a :class:`SummedMoney`, or a reference to one), zero where there
    was nothing to sum."""
    return SummedMoney(Coalesce(summed, Value(0), output_field=_sum_field()))


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
    rounded = round_amount(value, currency=currency)
    text = format_currency(
        rounded if rounded else abs(rounded),  # zero has no sign: never "−0,00"
        currency,
        locale=cldr_locale(language),
        currency_digits=True,
    )
    # CLDR separates a letter symbol from the digits (``CHF 12.00``); Babel does not.
    text = _LETTER_NEXT_TO_DIGIT.sub("\u00a0", text)
    return text.replace(" ", "\u00a0")


def format_unit_price(value: Money, *, language: str | None = None) -> str:
    """A unit price as :func:`format_money` writes amounts, but with every stored decimal
    (at least the currency's): ``€0.3349``, ``€320.00``. What is printed multiplies out."""
    currency = str(value.currency)
    text = format_currency(
        value.amount.normalize() if value.amount else value.amount,
        currency,
        locale=cldr_locale(language),
        currency_digits=True,
        decimal_quantization=False,
    )
    text = _LETTER_NEXT_TO_DIGIT.sub("\u00a0", text)
    return text.replace(" ", "\u00a0")


_LETTER_NEXT_TO_DIGIT = re.compile(r"(?<=[A-Za-z])(?=-?\d)|(?<=\d)(?=[A-Za-z])")


def money_html(value: Money | Decimal, currency: str | None = None, *, price: bool = False) -> str:
    """:func:`format_money` for a page: one element that never wraps (a minus sign included),
    with the currency and the exact amount as data for scripts and tests. ``price``: a unit
    price, with every stored decimal (:func:`format_unit_price`)."""
    if isinstance(value, Money):
        currency = str(value.currency)
    text = (
        format_unit_price(value)
        if price and isinstance(value, Money)
        else format_money(value, currency)
    )
    return format_html(
        '<span class="money" style="white-space: nowrap" data-currency="{}">{}</span>',
        currency,
        text,
    )


# Every space a person or a browser may type between groups of digits: the plain space, the
# no-break space and the narrow no-break space (CLDR's French group separator).
_SPACES = " \u00a0\u202f"
_SPACE_RUN = re.compile(f"[{_SPACES}]")
# Digits and separators only: no letters, so no exponent ("1e9"), "NaN" or "Infinity".
_AMOUNT_TEXT = re.compile(f"-?[0-9][0-9{_SPACES}.,]*")
_PLAIN_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class AmountNotReadable(ValueError):
    """The text is not an amount as the language writes it, nor a plain ``1000.50``."""


def parse_amount(text: str, *, language: str | None = None) -> Decimal:
    """Read an amount a person typed, as their language writes it (the active one by
    default; CLDR conventions, ``coworking.l10n``), or written plainly with a decimal point.

    ``1.000,50`` in Dutch, ``1 000,50`` in French (any kind of space between the groups),
    ``1,000.50`` in English and ``1000.50`` in every language are 1000.50. The language's
    reading comes first, so Dutch ``1.500`` is fifteen hundred. Separators must stand where
    the language puts them (Babel's strict parsing): English ``1000,50`` or French
    ``1.000,50`` are refused rather than guessed. Raises :class:`AmountNotReadable`.
    """
    text = text.strip()
    if not _AMOUNT_TEXT.fullmatch(text):
        raise AmountNotReadable(text)
    locale = cldr_locale(language)
    group = get_group_symbol(locale)
    localized = _SPACE_RUN.sub(group, text) if group in _SPACES else text
    try:
        value = parse_decimal(localized, locale=locale, strict=True)
    except NumberFormatError:
        if not _PLAIN_AMOUNT.fullmatch(text):
            raise AmountNotReadable(text) from None
        value = Decimal(text)
    if not value.is_finite() or value.adjusted() >= MAX_DIGITS:
        raise AmountNotReadable(text)
    return value


def amount_example(*, language: str | None = None) -> str:
    """How the language writes one thousand and a half, for a hint next to an amount box."""
    text = format_decimal(Decimal("1000.50"), "#,##0.00", locale=cldr_locale(language))
    return _SPACE_RUN.sub("\u00a0", text)
