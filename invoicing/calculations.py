"""Line and tax arithmetic, in ``Decimal``, with the project's one rounding rule
(``coworking.money.round_amount``, half-up to the cent).

- **Precision.** A unit price has at most ``PRICE_DECIMAL_PLACES`` (4) decimals and a
  quantity at most ``QUANTITY_PLACES`` (3); more is refused (:func:`precision_error`),
  never rounded away, so what is stored and printed is what was asked.
- **A line's net** is its stored quantity × its stored unit price, rounded once
  (:func:`line_net`): the printed line multiplies out (Peppol R120).
- **A line allowance** (a discount, ``coworking.allowances``) is whole cents taken off the
  line's gross before rounding: net = quantity × price − allowance.
- **VAT per document, rounded once** (EN 16931 BR-CO-17, BR-S-08/09): the VAT of each rate
  is the sum of the nets at that rate × the rate, rounded once (:func:`rate_tax`), never a
  sum of rounded line taxes, which drifts over many small lines. A line's ``tax`` is its
  share of its rate's VAT (:func:`allocate`, largest remainder in proportion to the nets),
  so lines still add up to the document; the share is informational.
- **Document level allowances and charges** (BG-20/BG-21, ``coworking.allowances``) move the
  base of their rate: the rate's VAT is (its lines' nets − its allowances + its charges) ×
  the rate, rounded once (:func:`rate_adjustments`, the ``adjustments`` of
  :func:`tax_shares`); the document's net (BT-109) is the lines' nets moved the same way
  (:func:`document_net`).

Rates are the grouping key: every category but standard rated (S) has a 0 % rate and no VAT,
so one key per rate is one VAT breakdown with VAT.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from coworking.money import CENT, PRICE_DECIMAL_PLACES, round_amount

QUANTITY_PLACES = 3
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RateTotals:
    rate: Decimal
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def rate_key(rate) -> Decimal:
    """Tax rates compare as numbers with two decimals (``21`` is ``21.00``)."""
    return Decimal(rate).quantize(CENT)


def precision_error(value: Decimal, *, places: int) -> bool:
    """Whether ``value`` has more than ``places`` decimals."""
    return value != value.quantize(Decimal(1).scaleb(-places))


def price_too_precise(value: Decimal) -> bool:
    return precision_error(value, places=PRICE_DECIMAL_PLACES)


def quantity_too_precise(value: Decimal) -> bool:
    return precision_error(value, places=QUANTITY_PLACES)


def line_net(*, quantity: Decimal, unit_price: Decimal, allowance: Decimal = ZERO) -> Decimal:
    """Stored quantity × stored unit price, rounded once, − the line's allowance (whole
    cents, at most that gross). The allowance comes off the rounded gross, the base it was
    taken from, so a 100 % discount leaves exactly 0.00 even where the product rounded up
    (1 × 12.3450 = 12.345 → 12.35), never a negative net."""
    return round_amount(quantity * unit_price) - allowance


def rate_tax(*, taxable: Decimal, rate: Decimal) -> Decimal:
    """The VAT of one rate of a document: its taxable base × the rate, rounded once."""
    return round_amount(taxable * Decimal(rate) / Decimal(100))


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (whole cents) over ``weights`` (non-negative amounts) in proportion,
    in whole cents that add up to it exactly: each gets its floor, and the cents left go to
    the largest remainders (the earlier one on a tie). With no weight at all, the first
    takes everything."""
    if not weights:
        return []
    sign = -1 if total < 0 else 1
    cents = int(abs(total) / CENT)
    units = [int(weight / CENT) for weight in weights]
    whole = sum(units)
    if whole <= 0:
        shares = [cents] + [0] * (len(weights) - 1)
    else:
        shares = [cents * unit // whole for unit in units]
        left = cents - sum(shares)
        order = sorted(range(len(units)), key=lambda i: (-(cents * units[i] % whole), i))
        for index in order[:left]:
            shares[index] += 1
    return [sign * Decimal(share) * CENT for share in shares]


def rate_adjustments(rows: Iterable[tuple[Decimal, Decimal]]) -> dict[Decimal, Decimal]:
    """What the document's allowances and charges, as ``(rate, signed amount)`` (a charge
    positive, an allowance negative), move the base of each rate by."""
    moved: dict[Decimal, Decimal] = {}
    for rate, amount in rows:
        moved[rate_key(rate)] = moved.get(rate_key(rate), ZERO) + amount
    return moved


def document_net(nets: Iterable[Decimal], adjustments: Iterable[Decimal] = ()) -> Decimal:
    """BT-109: the lines' nets (BT-106) − allowances (BT-107) + charges (BT-108), the
    ``adjustments`` signed as in :func:`rate_adjustments`."""
    return sum(nets, ZERO) + sum(adjustments, ZERO)


def tax_shares(
    lines: Sequence[tuple[Decimal, Decimal]],
    *,
    tax_by_rate: Mapping[Decimal, Decimal] = {},
    adjustments: Mapping[Decimal, Decimal] = {},
) -> list[Decimal]:
    """The tax of each ``(rate, net)`` line: its rate's VAT (``tax_by_rate[rate_key(rate)]``
    where given, else :func:`rate_tax` of the rate's nets moved by the rate's allowances and
    charges, ``adjustments``) allocated over the lines at that rate in proportion to their
    nets."""
    by_rate: dict[Decimal, list[int]] = {}
    for index, (rate, _net) in enumerate(lines):
        by_rate.setdefault(rate_key(rate), []).append(index)
    shares = [ZERO] * len(lines)
    for rate, indexes in by_rate.items():
        nets = [lines[index][1] for index in indexes]
        tax = tax_by_rate.get(rate)
        if tax is None:
            taxable = sum(nets, ZERO) + adjustments.get(rate, ZERO)
            tax = rate_tax(taxable=taxable, rate=rate)
        for index, share in zip(indexes, allocate(tax, nets), strict=True):
            shares[index] = share
    return shares


def totals_by_rate(lines: Iterable[tuple[Decimal, Decimal, Decimal]]) -> list[RateTotals]:
    """Group ``(tax_rate, net, tax)`` triples by rate, ordered by rate."""
    grouped: dict[Decimal, list[Decimal]] = {}
    for rate, net, tax in lines:
        sums = grouped.setdefault(Decimal(rate).normalize(), [ZERO, ZERO])
        sums[0] += net
        sums[1] += tax
    return [RateTotals(rate=r, net=n, tax=t) for r, (n, t) in sorted(grouped.items())]
