"""Allowances (discounts) of lines and documents, in the terms of EN 16931.

A line allowance (BG-27, BT-136..BT-140) lowers its line's net: net = quantity × unit price −
allowance, rounded once. The allowance is an amount in cents, or a percentage of the line's
gross (quantity × unit price, rounded) turned into cents once when the line is written, so
the stored line multiplies out. Each allowance states why: a text, a UNTDID 5189 code or
both (BR-41, BR-42; BR-CO-7 wants them to agree, so a code without a text gets the code's
label).

A document level allowance or charge (BG-20/BG-21, BT-92..BT-105) moves the tax basis of
one VAT breakdown (category and rate) of the document: BT-109 = sum of line nets (BT-106) −
allowances (BT-107) + charges (BT-108), and each breakdown's base (BT-116) is its lines'
nets − its allowances + its charges, its VAT that base × its rate, rounded once
(``invoicing.calculations``).
"""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from coworking.money import CENT, money_field, round_amount
from coworking.text import single_line
from coworking.vat import ZERO_RATE_CATEGORIES, VatCategory

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


def reason_text(*, reason: str, code: str, language: str) -> str:
    """The reason stated (BT-139/BT-97): the text given, else the code's label in
    ``language``, the document's: the label is frozen into what the customer reads."""
    if reason:
        return reason
    if code not in AllowanceReason.values:
        return ""
    with translation.override(language):
        return str(AllowanceReason(code).label)


class ChargeReason(models.TextChoices):
    """UNTDID 7161 charge reason codes a coworking operator uses."""

    CLEANING = "CG", _("Cleaning")
    OTHER_SERVICES = "ADR", _("Other services")
    MISCELLANEOUS = "ABK", _("Miscellaneous")
    SHIPPING = "SAA", _("Shipping and handling")
    MUTUALLY_DEFINED = "ZZZ", _("Mutually defined")


class AllowanceChargeKind(models.TextChoices):
    """Document level allowance (BG-20) or charge (BG-21): UBL's ``ChargeIndicator``."""

    ALLOWANCE = "allowance", _("Discount")
    CHARGE = "charge", _("Charge")


def reason_codes(kind: str) -> type[models.TextChoices]:
    """The code list of ``kind``'s reason codes: UNTDID 5189 for an allowance, 7161 for a
    charge."""
    return ChargeReason if kind == AllowanceChargeKind.CHARGE else AllowanceReason


def kind_reason_text(*, kind: str, reason: str, code: str, language: str) -> str:
    """The reason stated (BT-97/BT-104): the text given, else the code's label in
    ``language``, the document's."""
    if reason:
        return reason
    codes = reason_codes(kind)
    if code not in codes.values:
        return ""
    with translation.override(language):
        return str(codes(code).label)


class DocumentAllowanceFields(models.Model):
    """A document level allowance (BG-20) or charge (BG-21) of an invoice or credit note.

    Its amount (BT-92/BT-99) is whole cents, always positive: the kind says which way it
    moves the tax basis, and on a credit note the document's type says it is credited. A
    percentage (BT-94/BT-101) of a base (BT-93/BT-100) was turned into cents once when the
    row was written. Its VAT category and rate (BT-95/96, BT-102/103) are those of a VAT
    breakdown of the document's lines: it moves that breakdown's base (BT-116)."""

    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=AllowanceChargeKind.choices,
        default=AllowanceChargeKind.ALLOWANCE,
    )
    amount = money_field(_("amount"))
    base_amount = money_field(_("base amount"), null=True, blank=True)
    percent = models.DecimalField(
        _("percentage"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    vat_category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory.choices)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    reason = models.CharField(
        _("reason"), max_length=REASON_MAX_LENGTH, blank=True, validators=[single_line]
    )
    reason_code = models.CharField(
        _("reason code"),
        max_length=3,
        blank=True,
        choices=[*AllowanceReason.choices, *ChargeReason.choices],
    )

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason}"

    @property
    def is_charge(self) -> bool:
        return self.kind == AllowanceChargeKind.CHARGE

    @property
    def signed_amount(self) -> Decimal:
        """What it adds to the tax basis: + a charge, − an allowance."""
        return self.amount.amount if self.is_charge else -self.amount.amount


def document_allowance_constraints(prefix: str) -> list[models.CheckConstraint]:
    """The rules of a document level allowance or charge, named ``<prefix>_…``: a positive
    amount in the currency of its base, a percentage only with its base, a reason (BR-33,
    BR-38) and a code from the kind's list, the rate its category allows."""
    allowance_codes = [*AllowanceReason.values, ""]
    charge_codes = [*ChargeReason.values, ""]
    return [
        models.CheckConstraint(condition=Q(amount__gt=0), name=f"{prefix}_amount_positive"),
        models.CheckConstraint(
            condition=Q(base_amount__isnull=True)
            | Q(base_amount__gt=0, base_amount_currency=F("amount_currency")),
            name=f"{prefix}_base_in_currency",
        ),
        models.CheckConstraint(
            condition=Q(percent__isnull=True)
            | Q(percent__gt=0, percent__lte=100, base_amount__isnull=False),
            name=f"{prefix}_percent_of_base",
        ),
        models.CheckConstraint(condition=~Q(reason=""), name=f"{prefix}_has_reason"),
        models.CheckConstraint(
            condition=Q(kind=AllowanceChargeKind.ALLOWANCE, reason_code__in=allowance_codes)
            | Q(kind=AllowanceChargeKind.CHARGE, reason_code__in=charge_codes),
            name=f"{prefix}_reason_code_of_kind",
        ),
        models.CheckConstraint(
            condition=Q(vat_category=VatCategory.STANDARD, tax_rate__gt=0, tax_rate__lt=100)
            | Q(vat_category__in=ZERO_RATE_CATEGORIES, tax_rate=0),
            name=f"{prefix}_vat_category_rate",
        ),
    ]
