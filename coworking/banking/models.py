"""A location's bank accounts: one per currency it invoices in, printed on its invoices
with their payment reference and carried by their e-invoices (EN 16931 BG-16/BG-17).

The database holds what it can: one account per location and currency, IBAN and BIC in
their compact upper-case shape, a holder's name. ``clean`` adds python-stdnum's checks
(the IBAN's country format and check digits, the BIC's shape) as sentences for the admin.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coworking.banking.accounts import (
    BIC_PATTERN,
    IBAN_PATTERN,
    bic_error,
    compact_bic,
    compact_iban,
    format_iban,
    iban_error,
)
from coworking.money import CURRENCY_CHOICES
from coworking.text import single_line


def validate_iban(value: str) -> None:
    if error := iban_error(value):
        raise ValidationError(error, code="invalid_iban")


def validate_bic(value: str) -> None:
    if error := bic_error(value):
        raise ValidationError(error, code="invalid_bic")


def iban_constraint(field: str, *, name: str) -> models.CheckConstraint:
    """``field`` is empty or an IBAN's compact shape (its check digits: ``clean``)."""
    return models.CheckConstraint(
        condition=Q(**{field: ""}) | Q(**{f"{field}__regex": IBAN_PATTERN}), name=name
    )


class BankAccount(models.Model):
    """Where a location is paid in one currency: the account holder (the name a payer's
    bank shows and, from 2025, checks against the IBAN: "verification of payee"), the IBAN
    and the BIC. Invoices freeze the account they were issued with."""

    location = models.ForeignKey(
        "coworking.Location",
        on_delete=models.CASCADE,
        related_name="bank_accounts",
        verbose_name=_("location"),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    account_holder = models.CharField(
        _("account holder"),
        max_length=70,
        help_text=_("The name the account is held in, usually the location's legal name."),
        validators=[single_line],
    )
    iban = models.CharField(_("IBAN"), max_length=34, validators=[validate_iban])
    bic = models.CharField(
        _("BIC"),
        max_length=11,
        help_text=_("The bank's SWIFT code, 8 or 11 characters."),
        validators=[validate_bic],
    )

    class Meta:
        ordering = ["location", "currency"]
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "currency"],
                name="bank_account_one_per_location_currency",
                violation_error_message=_(
                    "The location already has a bank account in this currency."
                ),
            ),
            iban_constraint("iban", name="bank_account_iban_shape"),
            models.CheckConstraint(condition=~Q(iban=""), name="bank_account_iban_required"),
            models.CheckConstraint(
                condition=Q(bic__regex=BIC_PATTERN), name="bank_account_bic_shape"
            ),
            models.CheckConstraint(
                condition=~Q(account_holder=""), name="bank_account_holder_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {format_iban(self.iban)}"

    def clean(self):
        self.iban = compact_iban(self.iban)
        self.bic = compact_bic(self.bic)
