"""The money rules: one rounding rule, exact sums in the database, one way to write an
amount (the same on PostgreSQL here and on SQLite in ``test_embedded.py``)."""

from decimal import Decimal

import pytest
from django.utils import translation
from djmoney.money import Money

from coworking.money import format_money, money_html, round_amount

NBSP, NNBSP = "\u00a0", "\u202f"


def test_rounding_is_half_up_to_the_minor_unit():
    assert round_amount(Decimal("2.345")) == Decimal("2.35")
    assert round_amount(Decimal("-2.345"), currency="EUR") == Decimal("-2.35")
    assert round_amount(Decimal("2.3449")) == Decimal("2.34")
    with pytest.raises(TypeError):
        round_amount(2.345)


@pytest.mark.parametrize(
    ("language", "value", "currency", "text"),
    [
        ("en", "-1975.625", "EUR", "-€1,975.63"),  # half-up, where Babel alone rounds half-even
        ("en", "1234567.5", "GBP", "£1,234,567.50"),
        ("en", "12", "CHF", f"CHF{NBSP}12.00"),
        ("fr", "-1975.63", "EUR", f"-1{NNBSP}975,63{NBSP}€"),
        ("de", "-1975.63", "EUR", f"-1.975,63{NBSP}€"),
        ("nl", "1975.63", "EUR", f"€{NBSP}1.975,63"),
    ],
)
def test_one_format_per_language(language, value, currency, text):
    assert format_money(Decimal(value), currency, language=language) == text
    with translation.override(language):
        assert format_money(Money(Decimal(value), currency)) == text


def test_no_breaking_space_in_any_amount():
    for language in ("en", "fr", "de", "nl"):
        for currency in ("EUR", "GBP", "USD", "CHF"):
            assert " " not in format_money(Decimal("-1234567.89"), currency, language=language)


def test_on_a_page_an_amount_is_one_element_that_never_wraps():
    html = money_html(Money("-2135.65", "EUR"))
    assert html == (
        '<span class="money" style="white-space: nowrap" data-currency="EUR">-€2,135.65</span>'
    )


def test_an_amount_without_currency_is_refused():
    with pytest.raises(ValueError):
        format_money(Decimal("1.00"))
