"""Money in the database: sums are exact and carry the minor unit, and a draft's totals are
its lines' (the rounding and writing rules: tests/unit/test_money.py)."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from coworking.models import LedgerEntry
from coworking.money import MoneySum
from coworking.selectors import customer_balance
from tests.factories import CustomerFactory, draft_invoice, issued_invoice


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
