"""The one rounding rule and totals per tax rate: pure arithmetic (an issued invoice's totals:
tests/invoicing/test_invoice_issue.py)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coworking.money import money_sum, round_amount
from invoicing.calculations import line_amounts, totals_by_rate

D = Decimal


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (D("0.005"), D("0.01")),  # half-up, not banker's rounding
        (D("0.015"), D("0.02")),
        (D("2.675"), D("2.68")),  # exact in Decimal (a float would give 2.67)
        (D("-0.005"), D("-0.01")),
        (D("1.004999"), D("1.00")),
    ],
)
def test_round_amount_is_half_up_to_the_cent(value, rounded):
    assert round_amount(value) == rounded


def test_round_amount_refuses_floats():
    with pytest.raises(TypeError):
        round_amount(2.675)


def test_money_sum_refuses_to_mix_currencies():
    from djmoney.money import Money

    with pytest.raises(ValueError, match="GBP"):
        money_sum([Money("1.00", "EUR"), Money("1.00", "GBP")], currency="EUR")


@pytest.mark.parametrize(
    ("quantity", "price", "rate", "net", "tax"),
    [
        ("1", "190.00", "21", "190.00", "39.90"),
        ("3", "0.125", "21", "0.38", "0.08"),
        ("1.5", "42.50", "9", "63.75", "5.74"),  # 5.7375 → 5.74
        ("7", "0.05", "21", "0.35", "0.07"),  # 0.0735 → 0.07
        ("1", "0.10", "5", "0.10", "0.01"),  # 0.005 → 0.01
    ],
)
def test_line_amounts(quantity, price, rate, net, tax):
    amounts = line_amounts(quantity=D(quantity), unit_price=D(price), tax_rate=D(rate))
    assert (amounts.net, amounts.tax) == (D(net), D(tax))


@given(
    st.lists(
        st.tuples(
            st.sampled_from([D("0"), D("9"), D("20"), D("21")]),
            st.decimals(min_value=D("0.001"), max_value=D("500"), places=3),
            st.decimals(min_value=D("0"), max_value=D("5000"), places=3),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_totals_per_rate_add_up_to_the_lines(lines):
    computed = [
        (rate, line_amounts(quantity=q, unit_price=p, tax_rate=rate)) for rate, q, p in lines
    ]
    groups = totals_by_rate((rate, a.net, a.tax) for rate, a in computed)
    assert sum(g.net for g in groups) == sum(a.net for _, a in computed)
    assert sum(g.tax for g in groups) == sum(a.tax for _, a in computed)
    assert [g.rate for g in groups] == sorted({rate.normalize() for rate, _, _ in lines})
    for _, a in computed:
        assert a.tax == round_amount(a.net * _rate_of(a, computed) / 100)


def _rate_of(amounts, computed):
    return next(rate for rate, a in computed if a is amounts)
