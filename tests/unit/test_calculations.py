"""The one rounding rule and totals per tax rate (pure arithmetic, plus one issued invoice)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coworking.money import money_sum, round_amount
from invoicing.calculations import allocate, line_net, rate_tax, tax_shares, totals_by_rate

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
        ("1000", "0.3349", "21", "334.90", "70.33"),
    ],
)
def test_line_net_and_rate_tax(quantity, price, rate, net, tax):
    computed = line_net(quantity=D(quantity), unit_price=D(price))
    assert (computed, rate_tax(taxable=computed, rate=D(rate))) == (D(net), D(tax))


@pytest.mark.parametrize(
    ("quantity", "price", "allowance", "net"),
    [
        ("1", "12.3450", "12.35", "0.00"),  # 100 % of a gross that rounded up
        ("1", "0.0050", "0.01", "0.00"),
        ("3", "0.3345", "0.50", "0.50"),  # 1.0035 → 1.00, less 0.50
        ("2", "10.0025", "1.00", "19.01"),  # 20.005 → 20.01, less 1.00
    ],
)
def test_a_discount_comes_off_the_rounded_gross_and_never_makes_a_net_negative(
    quantity, price, allowance, net
):
    assert line_net(quantity=D(quantity), unit_price=D(price), allowance=D(allowance)) == D(net)


def test_allocate_shares_whole_cents_by_largest_remainder():
    assert allocate(D("1.05"), [D("0.02")] * 3) == [D("0.35")] * 3
    assert allocate(D("0.10"), [D("1.00"), D("1.00"), D("1.00")]) == [
        D("0.04"),
        D("0.03"),
        D("0.03"),
    ]
    assert allocate(D("0.05"), [D("0"), D("0")]) == [D("0.05"), D("0")]
    assert allocate(D("-0.03"), [D("1"), D("2")]) == [D("-0.01"), D("-0.02")]


@given(
    st.lists(
        st.tuples(
            st.sampled_from([D("0"), D("9"), D("20"), D("21")]),
            st.decimals(min_value=D("0.001"), max_value=D("500"), places=3),
            st.decimals(min_value=D("0"), max_value=D("5000"), places=4),
        ),
        min_size=1,
        max_size=30,
    )
)
@settings(deadline=None)
def test_tax_per_rate_is_rounded_once_and_shared_over_the_lines(lines):
    nets = [(rate, line_net(quantity=q, unit_price=p)) for rate, q, p in lines]
    shares = tax_shares(nets)
    groups = totals_by_rate((rate, net, tax) for (rate, net), tax in zip(nets, shares, strict=True))
    assert [g.rate for g in groups] == sorted({rate.normalize() for rate, _, _ in lines})
    for group in groups:
        assert group.tax == rate_tax(taxable=group.net, rate=group.rate)
    assert all(share >= 0 and share == round_amount(share) for share in shares)
