"""Credit arithmetic, in ``Decimal``, without the database.

What a credit note credits is worked out here from what is left to credit on the invoice
(``credits.selectors.Creditable``, read under the invoice's lock): the parts of a partial
credit, checked per line and per tax rate, or everything left. A line's part is what its
credited quantity is worth after the part minus what was credited before, each rounded by
the one rule (``coworking.money.round_amount``), so parts never add up to more than the
line and the part that completes a line takes exactly what is left. The note's VAT is per
rate, from its own base, rounded once (:func:`with_tax`). Raises the typed refusals of
``credits.errors`` (and ``CurrencyMismatch``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from coworking.allowances import share_of_allowance
from coworking.errors import CurrencyMismatch
from coworking.l10n import human_number
from coworking.money import converted
from coworking.text import is_single_line
from credits.errors import (
    CreditExceedsLine,
    CreditExceedsRate,
    CreditLineNotOnInvoice,
    InvalidCreditNote,
    NothingLeftToCredit,
    TaxRateNotOnInvoice,
)
from credits.selectors import Creditable, CreditableLine, tax_rate_key
from invoicing.calculations import line_net, rate_tax, tax_shares

if TYPE_CHECKING:
    from credits.services.requests import AmountCredit, LineCredit

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Part:
    """One line of the credit note to write, in positive amounts."""

    invoice_line_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    vat: dict  # the VAT category, exemption reason and service period of the credited line
    allowance: dict = dataclasses.field(default_factory=dict)  # its discount (positive)


def everything_left_parts(creditable: Creditable) -> list[Part]:
    """What is left of each line; at a tax rate where free amounts were credited (so its
    lines cannot all be credited in full any more), one part for what is left at the rate."""
    parts = []
    for rate in creditable.rates.values():
        at_rate = [line for line in creditable.lines if tax_rate_key(line.tax_rate) == rate.rate]
        if rate.amount_credited_net == 0:
            parts += [
                _line_part(line, quantity=line.remaining_quantity, net=line.remaining_net)
                for line in at_rate
                if line.remaining_quantity > 0
            ]
        elif rate.remaining_net > 0 or rate.remaining_tax > 0:
            parts.append(
                Part(
                    invoice_line_id=None,
                    description=_("Remainder at %(rate)s%% tax")
                    % {"rate": human_number(rate.rate)},
                    quantity=Decimal("1"),
                    unit_price=rate.remaining_net,
                    tax_rate=rate.rate,
                    net=rate.remaining_net,
                    tax=ZERO,
                    vat=_rate_vat(creditable, rate.rate),
                )
            )
    parts.sort(key=lambda part: (part.invoice_line_id is None, _position(creditable, part)))
    return with_tax(creditable, parts)


def with_tax(creditable: Creditable, parts: list[Part]) -> list[Part]:
    """The parts with their tax: the VAT of each rate of the note is the note's own net at
    that rate × the rate, rounded once (never more than the VAT left at the rate), or, when
    the note credits all the net left at the rate, exactly the VAT left, so the notes of an
    invoice reverse its VAT to the cent; then shared over the note's lines at the rate
    (``invoicing.calculations``)."""
    nets: dict[Decimal, Decimal] = {}
    for part in parts:
        key = tax_rate_key(part.tax_rate)
        nets[key] = nets.get(key, ZERO) + part.net
    tax_by_rate = {}
    for key, net in nets.items():
        left = creditable.rates[key]
        if net >= left.remaining_net:
            tax_by_rate[key] = left.remaining_tax
        else:
            tax_by_rate[key] = min(rate_tax(taxable=net, rate=key), left.remaining_tax)
    shares = tax_shares([(part.tax_rate, part.net) for part in parts], tax_by_rate=tax_by_rate)
    return [dataclasses.replace(part, tax=tax) for part, tax in zip(parts, shares, strict=True)]


def _position(creditable: Creditable, part: Part) -> int:
    line = creditable.line(part.invoice_line_id)
    return line.position if line is not None else 0


def _line_part(line: CreditableLine, *, quantity: Decimal, net: Decimal) -> Part:
    return Part(
        invoice_line_id=line.id,
        description=line.description,
        quantity=quantity,
        unit_price=line.unit_price,
        tax_rate=line.tax_rate,
        net=net,
        tax=ZERO,  # the note's VAT per rate, shared over its lines: ``with_tax``
        vat=line.vat,
        allowance=_part_allowance(line, quantity=quantity, net=net),
    )


def _part_allowance(line: CreditableLine, *, quantity: Decimal, net: Decimal) -> dict:
    """The discount a credited part of a discounted line carries: what separates its
    quantity × unit price from its net, so the credit note's line multiplies out too."""
    if not line.allowance:
        return {}
    gross = line_net(quantity=quantity, unit_price=line.unit_price)
    return {"allowance": max(gross - net, ZERO), **line.allowance_reason}


def _rate_vat(creditable: Creditable, rate: Decimal) -> dict:
    """For a free amount at ``rate``: the VAT category (and exemption reason) of the
    invoice's first line at that rate, without a service period."""
    line = next(line for line in creditable.lines if tax_rate_key(line.tax_rate) == rate)
    return {**line.vat, "period_start": None, "period_end": None}


def requested_parts(
    creditable: Creditable, *, lines: list[LineCredit], amount: AmountCredit | None
) -> list[Part]:
    """The parts a partial credit asks for, checked against what is left (per line, then
    per tax rate, the free amount after the lines)."""
    invoice = creditable.invoice
    left = {rate: r.remaining_net for rate, r in creditable.rates.items()}
    parts = []
    for request in lines:
        line = creditable.line(request.invoice_line)
        if line is None:
            raise CreditLineNotOnInvoice(
                _("Line %(line)s is not a line of invoice %(number)s.")
                % {"line": request.invoice_line, "number": invoice.number}
            )
        if line.remaining_quantity <= 0:
            raise NothingLeftToCredit(
                _("Line %(position)s of %(number)s (%(description)s) is credited in full.")
                % {
                    "position": line.position,
                    "number": invoice.number,
                    "description": line.description,
                }
            )
        if request.quantity > line.remaining_quantity:
            raise CreditExceedsLine(
                _("Line %(position)s of %(number)s has %(left)s left to credit, not %(asked)s.")
                % {
                    "position": line.position,
                    "number": invoice.number,
                    "left": human_number(line.remaining_quantity),
                    "asked": human_number(request.quantity),
                }
            )
        net = part_net(line, quantity=request.quantity)
        key = tax_rate_key(line.tax_rate)
        if net > left[key]:
            raise CreditExceedsRate(
                _("Line %(position)s: at %(rate)s%% tax only %(net)s net is left to credit.")
                % {
                    "position": line.position,
                    "rate": human_number(line.tax_rate),
                    "net": left[key],
                }
            )
        left[key] -= net
        parts.append(_line_part(line, quantity=request.quantity, net=net))
    parts.sort(key=lambda part: _position(creditable, part))
    if amount is not None:
        parts.append(_amount_part(creditable, amount=amount, left=left))
    parts = with_tax(creditable, parts)
    if sum(part.net + part.tax for part in parts) <= 0:
        raise InvalidCreditNote(_("The credit note would credit nothing."))
    return parts


def part_net(line: CreditableLine, *, quantity: Decimal) -> Decimal:
    """The net of crediting ``quantity`` more of ``line``: what the credited quantity is
    worth after this part minus what was credited before (the last part: what is left)."""
    after = line.credited_quantity + quantity
    if after == line.quantity:
        return line.remaining_net
    allowance = share_of_allowance(allowance=line.allowance, quantity=line.quantity, of=after)
    worth = line_net(quantity=after, unit_price=line.unit_price, allowance=allowance)
    return min(max(worth - line.credited_net, ZERO), line.remaining_net)


def _amount_part(creditable: Creditable, *, amount: AmountCredit, left: dict) -> Part:
    invoice = creditable.invoice
    if str(amount.value.currency) != invoice.currency:
        raise CurrencyMismatch(
            _("The amount is in %(amount)s but invoice %(number)s is in %(invoice)s.")
            % {
                "amount": amount.value.currency,
                "number": invoice.number,
                "invoice": invoice.currency,
            }
        )
    rate = tax_rate_key(amount.tax_rate)
    if rate not in left:
        raise TaxRateNotOnInvoice(
            _(
                "Invoice %(number)s has no line at %(rate)s%% tax; an amount is credited at one "
                "of its rates (%(rates)s)."
            )
            % {
                "number": invoice.number,
                "rate": human_number(amount.tax_rate),
                "rates": ", ".join(human_number(r, percent=True) for r in left),
            }
        )
    if not is_single_line(amount.description):
        raise InvalidCreditNote(
            _("The description of the amount is printed on one line: remove its line breaks.")
        )
    net_left = left[rate]
    net = amount.value.amount
    if net > net_left:
        raise CreditExceedsRate(
            _("At %(rate)s%% tax only %(left)s net is left to credit on invoice %(number)s.")
            % {"rate": human_number(rate), "left": net_left, "number": invoice.number}
        )
    return Part(
        invoice_line_id=None,
        description=amount.description
        or _("Credit at %(rate)s%% tax") % {"rate": human_number(rate)},
        quantity=Decimal("1"),
        unit_price=net,
        tax_rate=rate,
        net=net,
        tax=ZERO,
        vat=_rate_vat(creditable, rate),
    )


def vat_currency_tax(*, tax: Decimal, rate: Decimal, left: Decimal, completes: bool) -> Decimal:
    """A note's own VAT in the invoice's VAT currency (BT-111), negative: ``tax`` at the
    invoice's exchange ``rate``, rounded once per note, never beyond the ``left`` the
    earlier notes left; the note that completes the invoice takes exactly that rest, so the
    notes of an invoice reverse its VAT in the VAT currency to the cent."""
    return -left if completes else -min(converted(tax, rate=rate), left)
