"""VAT categories of document lines (EN 16931 BT-151/BT-118) and their rules, in one place.

Every line of an invoice or credit note carries a category. What each one allows follows
EN 16931 (rules BR-S-*, BR-Z-*, BR-E-*, BR-AE-*, BR-O-*) and the VAT Directive's invoice
mentions (Art. 226(11)/(11a)):

- **S** (standard rated): a rate above zero, no exemption reason;
- **Z** (zero rated): rate 0, no exemption reason;
- **E** (exempt), **AE** (reverse charge), **O** (outside the scope of VAT): rate 0 and an
  exemption reason the document prints (e.g. "Reverse charge", with the article of the law).

Reverse charge also needs the customer's VAT id (checked when the invoice is issued); a
document with an **O** line has only **O** lines and states no VAT id (BR-O-02, BR-O-11).
The database holds the per-line rules as check constraints (``line_constraints``).
"""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from coworking.money import CURRENCY_CHOICES
from coworking.text import single_line


class VatCategory(models.TextChoices):
    STANDARD = "S", _("Standard rate")
    ZERO_RATED = "Z", _("Zero rated")
    EXEMPT = "E", _("Exempt from VAT")
    REVERSE_CHARGE = "AE", _("Reverse charge")
    OUTSIDE_SCOPE = "O", _("Outside the scope of VAT")


# Categories whose lines are at 0 % and must say why (BR-E-10, BR-AE-10, BR-O-10).
NEEDS_REASON = (VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE, VatCategory.OUTSIDE_SCOPE)
ZERO_RATE_CATEGORIES = (VatCategory.ZERO_RATED, *NEEDS_REASON)

# The exemption reason code (CEF VATEX list, BT-121) of the categories that have a single
# one, and the wording a line gets when none is given. An exempt line (E) always needs its
# own reason: the article that exempts it depends on the service.
DEFAULT_REASONS = {
    VatCategory.REVERSE_CHARGE: ("VATEX-EU-AE", "Reverse charge"),
    VatCategory.OUTSIDE_SCOPE: ("VATEX-EU-O", "Not subject to VAT"),
}


# Exemption and reverse-charge wordings the product writes (the defaults above, the demo's),
# stored in English on the lines: a document states them in its own language. A reason
# typed by staff is printed as typed.
KNOWN_EXEMPTION_WORDINGS = frozenset(
    {
        gettext_noop("Reverse charge"),
        gettext_noop("Not subject to VAT"),
        gettext_noop("Reverse charge (Art. 196 Directive 2006/112/EC)"),
        gettext_noop("VAT due by the customer (Art. 196 Directive 2006/112/EC)"),
        gettext_noop("Reverse charge: VAT due by the customer (Art. 196 Directive 2006/112/EC)"),
        gettext_noop("Letting of immovable property (Art. 135(1)(l) Directive 2006/112/EC)"),
        gettext_noop(
            "Exempt: letting of immovable property (Art. 135(1)(l) Directive 2006/112/EC)"
        ),
    }
)


def exemption_wording(reason: str) -> str:
    """``reason`` in the active language when it is one of the product's own wordings."""
    return gettext(reason) if reason in KNOWN_EXEMPTION_WORDINGS else reason


def _vatex(code: str, label) -> tuple[str, str]:
    """A choice of ``EXEMPTION_REASON_CODES``: the code, then its label in the reader's
    language."""
    return code, format_lazy("{}: {}", code, label)


# VATEX codes (CEF code list, BT-121) the product offers.
EXEMPTION_REASON_CODES = [
    _vatex("VATEX-EU-AE", _("reverse charge")),
    _vatex("VATEX-EU-O", _("not subject to VAT")),
    _vatex("VATEX-EU-132", _("exempt under Art. 132 (activities in the public interest)")),
    _vatex("VATEX-EU-135-1", _("exempt under Art. 135(1) (e.g. letting of property)")),
    _vatex("VATEX-EU-143", _("exempt under Art. 143 (importation)")),
    _vatex("VATEX-EU-148", _("exempt under Art. 148 (international transport)")),
    _vatex("VATEX-EU-151", _("exempt under Art. 151 (diplomatic, international bodies)")),
    _vatex("VATEX-EU-309", _("travel agents, Art. 309")),
    _vatex("VATEX-EU-79-C", _("amounts received on behalf of the customer, Art. 79(c)")),
    _vatex("VATEX-FR-FRANCHISE", _("France, VAT threshold exemption (293 B CGI)")),
]
EXEMPTION_REASON_MAX_LENGTH = 300


def category_rule_error(*, category: str, rate: Decimal, reason: str) -> str | None:
    """Why a line with this category, rate and reason is not allowed, or ``None``."""
    if category not in VatCategory.values:
        return _("unknown VAT category %(category)s") % {"category": category}
    label = VatCategory(category).label
    if category == VatCategory.STANDARD and rate <= 0:
        return _("a standard-rated line needs a rate above 0%")
    if category != VatCategory.STANDARD and rate != 0:
        return _("a line that is “%(category)s” has a 0%% rate") % {"category": label}
    if category in NEEDS_REASON and not reason:
        return _("a line that is “%(category)s” needs an exemption reason") % {"category": label}
    if category not in NEEDS_REASON and reason:
        return _("a line that is “%(category)s” has no exemption reason") % {"category": label}
    return None


def line_constraints(prefix: str) -> list[models.CheckConstraint]:
    """The per-line rules above as check constraints, named ``<prefix>_…``."""
    reason_given = ~Q(vat_exemption_reason="")
    return [
        models.CheckConstraint(
            condition=Q(vat_category=VatCategory.STANDARD, tax_rate__gt=0)
            | Q(vat_category__in=ZERO_RATE_CATEGORIES, tax_rate=0),
            name=f"{prefix}_vat_category_rate",
        ),
        models.CheckConstraint(
            condition=(Q(vat_category__in=NEEDS_REASON) & reason_given)
            | Q(
                vat_category__in=[VatCategory.STANDARD, VatCategory.ZERO_RATED],
                vat_exemption_reason="",
                vat_exemption_reason_code="",
            ),
            name=f"{prefix}_vat_exemption_reason",
        ),
        models.CheckConstraint(
            condition=Q(period_start__isnull=True, period_end__isnull=True)
            | Q(period_start__isnull=False, period_end__gte=models.F("period_start")),
            name=f"{prefix}_service_period",
        ),
    ]


class VatLineFields(models.Model):
    """The VAT category, exemption reason and service period of a document line."""

    vat_category = models.CharField(_("VAT category"), max_length=2, choices=VatCategory.choices)
    vat_exemption_reason = models.CharField(
        _("VAT exemption reason"),
        max_length=EXEMPTION_REASON_MAX_LENGTH,
        blank=True,
        help_text=_("Printed on the document, e.g. “Reverse charge” or the article of the law."),
        validators=[single_line],
    )
    vat_exemption_reason_code = models.CharField(
        _("VAT exemption reason code"), max_length=30, blank=True, choices=EXEMPTION_REASON_CODES
    )
    period_start = models.DateField(_("service from"), null=True, blank=True)
    period_end = models.DateField(_("service until"), null=True, blank=True)

    class Meta:
        abstract = True


class VatCurrencyFields(models.Model):
    """The VAT currency of a document and, when the document is in another currency, the
    exchange rate it was issued at and its VAT converted (EN 16931 BT-6, BT-111; VAT
    Directive Art. 230). Blank on documents issued before these fields existed."""

    vat_currency = models.CharField(
        _("VAT currency"),
        max_length=3,
        choices=CURRENCY_CHOICES,
        blank=True,
        help_text=_("The location's VAT currency at issue."),
    )
    vat_exchange_rate = models.DecimalField(
        _("exchange rate to the VAT currency"),
        max_digits=18,
        decimal_places=8,
        null=True,
        blank=True,
        help_text=_("Units of the VAT currency for one unit of the document's currency."),
    )
    tax_total_vat_currency = models.DecimalField(
        _("VAT in the VAT currency"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        abstract = True

    @staticmethod
    def vat_currency_constraint(prefix: str, *, credited: bool) -> models.CheckConstraint:
        """A rate and a converted VAT exactly when the VAT currency is another one; the
        converted VAT has the sign of the document's amounts (negative on credit notes)."""
        none = {"vat_exchange_rate__isnull": True, "tax_total_vat_currency__isnull": True}
        converted = {
            "tax_total_vat_currency__lte" if credited else "tax_total_vat_currency__gte": 0
        }
        return models.CheckConstraint(
            condition=Q(vat_currency="", **none)
            | Q(vat_currency=F("currency"), **none)
            | (
                ~Q(vat_currency="")
                & ~Q(vat_currency=F("currency"))
                & Q(vat_exchange_rate__gt=0, **converted)
            ),
            name=f"{prefix}_vat_currency_rate",
        )
