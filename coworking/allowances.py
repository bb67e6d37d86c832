"""Allowances (discounts) of lines and documents, in the terms of EN 16931.

A line allowance (BG-27, BT-136..BT-140) lowers its line's net: net = quantity × unit price −
allowance, rounded once. The allowance is an amount in cents, or a percentage of the line's
gross (quantity × unit price, rounded) turned into cents once when the line is written, so
the stored line multiplies out. Each allowance states why: a text, a UNTDID 5189 code or
both (BR-41, BR-42; BR-CO-7 wants them to agree, so a code without a text gets the code's
label).
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from coworking.money import CENT, round_amount

REASON_MAX_LENGTH = 100


class AllowanceReason(models.TextChoices):
    """UNTDID 5189 allowance reason codes a coworking operator uses."""

    DISCOUNT = "95", _("Discount")
    SPECIAL_REBATE = "100", _("Special rebate")
    SPECIAL_AGREEMENT = "64", _("Special agreement")
    FIXED_LONG_TERM = "102", _("Fixed long term")
    TEMPORARY = "103", _("Temporary")
    YEARLY_TURNOVER = "105", _("Yearly turnover")


def percent_allowance(*, gross: Decimal, percent: Decimal) -> Decimal:
    """The allowance of ``percent`` % of ``gross``, rounded once to the cent."""
    return round_amount(gross * percent / Decimal(100))


def allowance_problem(*, allowance: Decimal, gross: Decimal) -> str | None:
    """Why ``allowance`` cannot lower ``gross`` (a sentence), or ``None``."""
    if allowance < 0:
        return str(_("an allowance cannot be negative"))
    if allowance != allowance.quantize(CENT):
        return str(_("an allowance is an amount in cents (%(amount)s)") % {"amount": allowance})
    if allowance > gross:
        return str(
            _("the allowance %(allowance)s exceeds the amount it reduces (%(gross)s)")
            % {"allowance": allowance, "gross": gross}
        )
    return None


def reason_text(*, reason: str, code: str) -> str:
    """The reason stated (BT-139/BT-97): the text given, else the code's label."""
    if reason:
        return reason
    return str(AllowanceReason(code).label) if code in AllowanceReason.values else ""
