"""What a credit or a cancel may ask for, and the cleaning of a request before anything
is read: unknown channels and reason codes, over-long texts, quantities and amounts that are
not positive decimals are refused here with ``InvalidCreditNote`` or ``InvalidCancellation``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from djmoney.money import Money

from coworking.decimals import clean_decimal
from coworking.money import in_whole_cents
from credits.errors import InvalidCancellation, InvalidCreditNote
from credits.models import ReasonCode
from invoicing.models import Channel

REASON_MAX_LENGTH = 1000


DESCRIPTION_MAX_LENGTH = 200


@dataclass(frozen=True)
class LineCredit:
    """Credit ``quantity`` of the invoice line whose id is ``invoice_line``."""

    invoice_line: int
    quantity: Decimal


@dataclass(frozen=True)
class AmountCredit:
    """Credit a free net amount at a tax rate of the invoice (tax is added at that rate)."""

    value: Money
    tax_rate: Decimal
    description: str = ""


class Rest(models.TextChoices):
    """Where what a credit note credits beyond what is due goes, once ``Allocation``'s
    amounts are taken: the admin's choice of "the excess, all of it" (read under the lock)."""

    ACCOUNT_CREDIT = "account_credit", _lazy("Account credit")
    REFUND = "refund", _lazy("Refund")
    SETTLED_OUTSIDE = "settled_outside", _lazy("Settled outside")


@dataclass(frozen=True)
class Allocation:
    """Of what a credit note credits beyond what is still due, how much is paid back to
    the customer (``refund``) or was settled outside the system (``settled_outside``); the
    rest becomes account credit, or a refund or settlement outside if ``rest`` says so."""

    refund: Money | None = None
    settled_outside: Money | None = None
    reference: str = ""
    rest: str = Rest.ACCOUNT_CREDIT


def clean_request(*, reason: str | None, channel: str, error=InvalidCancellation) -> str:
    """The reason, stripped; raises ``error`` for an unknown channel or a reason longer than
    ``REASON_MAX_LENGTH``."""
    if channel not in Channel.values:
        raise error(_("Unknown channel: %(channel)s.") % {"channel": channel})
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise error(
            _("The reason is too long (%(length)s characters; at most %(max)s).")
            % {"length": len(reason), "max": REASON_MAX_LENGTH}
        )
    return reason


def _clean_reason_code(reason_code: str, *, error=InvalidCreditNote) -> str:
    if reason_code not in ReasonCode.values:
        raise error(
            _("Unknown reason code %(code)s; use one of: %(codes)s.")
            % {"code": reason_code, "codes": ", ".join(ReasonCode.values)}
        )
    return reason_code


def _clean_lines(lines: Sequence[LineCredit]) -> list[LineCredit]:
    """Quantities as positive decimals with at most three places, each line once."""
    cleaned, seen = [], set()
    for line in lines:
        quantity = clean_decimal(line.quantity, field=_("The quantity"), error=InvalidCreditNote)
        if quantity <= 0 or quantity != quantity.quantize(Decimal("0.001")):
            raise InvalidCreditNote(
                _("Quantities to credit must be positive, with at most three decimals.")
            )
        if line.invoice_line in seen:
            raise InvalidCreditNote(_("Each invoice line can be listed once."))
        seen.add(line.invoice_line)
        cleaned.append(LineCredit(invoice_line=line.invoice_line, quantity=quantity))
    return cleaned


def _clean_amount(amount: AmountCredit | None) -> AmountCredit | None:
    if amount is None:
        return None
    if not isinstance(amount.value, Money):
        raise InvalidCreditNote(_("The amount must be Money."))
    value = amount.value.amount
    if value <= 0 or not in_whole_cents(value):
        raise InvalidCreditNote(_("The amount must be positive and in whole cents."))
    description = (amount.description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidCreditNote(
            _("The description is too long (at most %(max)s characters).")
            % {"max": DESCRIPTION_MAX_LENGTH}
        )
    rate = clean_decimal(amount.tax_rate, field=_("The tax rate"), error=InvalidCreditNote)
    return AmountCredit(value=amount.value, tax_rate=rate, description=description)


def partial_request(*, lines, amount, reason, reason_code, channel) -> dict:
    """What a partial credit asks for, cleaned (raises ``InvalidCreditNote``)."""
    reason = clean_request(reason=reason, channel=channel, error=InvalidCreditNote)
    reason_code = _clean_reason_code(reason_code)
    lines, amount = _clean_lines(lines), _clean_amount(amount)
    if not lines and amount is None:
        raise InvalidCreditNote(_("Choose at least one line to credit, or an amount."))
    return {"lines": lines, "amount": amount, "reason": reason, "reason_code": reason_code}


def cancel_request(*, reason, reason_code, channel) -> dict:
    """What a cancel asks for, cleaned (raises ``InvalidCancellation``)."""
    return {
        "lines": [],
        "amount": None,
        "reason": clean_request(reason=reason, channel=channel),
        "reason_code": _clean_reason_code(reason_code, error=InvalidCancellation),
    }
