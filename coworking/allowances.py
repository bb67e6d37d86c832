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
from coworking.text import single_line

REASON_MAX_LENGTH = 100


class AllowanceReason(models.TextChoices):
    """UNTDID 5189 allowance reason codes a coworking operator uses."""

    DISCOUNT = "95", _("Discount")
    SPECIAL_REBATE = "100", _("Special rebate")
    SPECIAL_AGREEMENT = "64", _("Special agreement")
    FIXED_LONG_TERM = "102", _("Fixed long term")
    TEMPORARY = "103", _("Temporary")
    YEARLY_TURNOVER = "105", _("Yearly turnover")


class LineAllowanceFields(models.Model):
    """A line's discount (BG-27): taken off quantity × unit price before VAT, with why."""

    allowance = models.DecimalField(
        _("discount"), max_digits=14, decimal_places=2, default=Decimal("0.00"), db_default=0
    )
    allowance_reason = models.CharField(
        _("discount reason"),
        max_length=REASON_MAX_LENGTH,
        blank=True,
        db_default="",
        validators=[single_line],
    )
    allowance_reason_code = models.CharField(
        _("discount reason code"),
        max_length=3,
        choices=AllowanceReason.choices,
        blank=True,
        db_default="",
    )

    class Meta:
        abstract = True


ALLOWANCE_FIELDS = ("allowance", "allowance_reason", "allowance_reason_code")


def line_allowance_constraint(prefix: str) -> models.CheckConstraint:
    """A line with a discount states its reason (BR-41/BR-42); never a negative one."""
    return models.CheckConstraint(
        condition=models.Q(allowance=0)
        | models.Q(allowance__gt=0) & ~models.Q(allowance_reason=""),
        name=f"{prefix}_allowance_with_reason",
    )


def share_of_allowance(*, allowance: Decimal, quantity: Decimal, of: Decimal) -> Decimal:
    """The part of a line's ``allowance`` that ``of`` of its ``quantity`` carries, rounded
    once: what a credit of part of the line takes back with it."""
    if of >= quantity:
        return allowance
    return round_amount(allowance * of / quantity)


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
