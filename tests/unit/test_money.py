"""The money rules: one rounding rule, exact sums in the database, one way to write an
amount (the same on PostgreSQL here and on SQLite in ``test_embedded.py``)."""

from decimal import Decimal

import pytest
from django.utils import translation
from djmoney.money import Money

from coworking.models import LedgerEntry
from coworking.money import MoneySum, format_money, money_html, round_amount
from coworking.selectors import customer_balance
from tests.factories import CustomerFactory, draft_invoice, issued_invoice

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


@pytest.mark.django_db
def test_money_sum_is_exact_and_has_the_minor_unit():
    customer = CustomerFactory()
    for _ in range(3):
        issued_invoice(customer=customer, specs=[("Desk", "1", "0.10", "0")], paid="all")
    total = LedgerEntry.objects.filter(customer=customer).aggregate(t=MoneySum("amount"))["t"]
    assert total == Decimal("0.00") and total.as_tuple().exponent == -2
    assert customer_balance(customer=customer) == {"EUR": Money("0.00", "EUR")}
    assert str(customer_balance(customer=customer)["EUR"].amount) == "0.00"


@pytest.mark.django_db
def test_a_draft_carries_the_totals_of_its_lines():
    draft = draft_invoice(specs=[("Desk", "2", "100.00", "21"), ("Locker", "1", "15.00", "0")])
    assert (draft.net_total, draft.tax_total, draft.total) == (
        Money("215.00", "EUR"),
        Money("42.00", "EUR"),
        Money("257.00", "EUR"),
    )
