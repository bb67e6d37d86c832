"""Line and tax arithmetic, in ``Decimal``, with the project's one rounding rule.

A line's net is ``quantity × unit price`` and its tax is ``net × rate / 100``, each rounded
half-up to the cent (``coworking.money.round_amount``). Totals per tax rate and the grand
total are plain sums of the rounded line amounts, so a document always adds up to its lines
and a credit note that mirrors the lines mirrors the totals to the cent.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from coworking.money import round_amount


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class RateTotals:
    rate: Decimal
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def line_amounts(*, quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> LineAmounts:
    net = round_amount(quantity * unit_price)
    return LineAmounts(net=net, tax=round_amount(net * tax_rate / Decimal(100)))


def totals_by_rate(lines: Iterable[tuple[Decimal, Decimal, Decimal]]) -> list[RateTotals]:
    """Group ``(tax_rate, net, tax)`` triples by rate, ordered by rate."""
    grouped: dict[Decimal, list[Decimal]] = {}
    for rate, net, tax in lines:
        sums = grouped.setdefault(Decimal(rate).normalize(), [Decimal("0.00"), Decimal("0.00")])
        sums[0] += net
        sums[1] += tax
    return [RateTotals(rate=r, net=n, tax=t) for r, (n, t) in sorted(grouped.items())]
