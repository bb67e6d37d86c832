"""Which VAT a line carries, decided from what is sold, where, and to whom.

A line's **supply kind** (from its billable item), the **location's country** (and whether it
opted to tax its letting) and the **buyer** (a business with a VAT id that passes
python-stdnum's check, or a consumer; their country) decide its category, rate and exemption
reason (``derive``). Staff may override a line, with a reason, only to another treatment the
same facts allow (``allowed``); ``override_error`` says why any other is refused.

The rules (VAT Directive 2006/112/EC, Implementing Regulation 282/2011):

- **workspace use** (desks, offices, meeting rooms) is a service connected with immovable
  property (Art. 47; Impl. Reg. Art. 31a): the VAT of the country where the building is,
  whoever the customer is; never reverse charge. Where the country exempts letting and the
  location has not opted to tax, staff may bill it as exempt letting instead.
- **general services** (virtual office, mail handling, printing, events): to a business with
  a VAT id of another EU country, reverse charge (Art. 44 and 196, category AE, the buyer's VAT
  id on the invoice); to a business outside the EU, outside the scope (O, Art. 44); to
  consumers and to businesses of the location's own country (or without a valid VAT id,
  Impl. Reg. Art. 18(2)), the location's VAT (Art. 45).
- **goods and catering on site**: where they are handed over or consumed (Art. 31, 55), at the
  item's own rate (a reduced or zero rate) or the standard rate.
- **exempt letting**: exempt (E) with the national basis where the country exempts the
  letting of immovable property (Art. 135(1)(l)) and the location has not opted to tax
  (Art. 137); standard rated once it has.
- **deposits**: not the consideration for a supply, outside the scope (O), off the VAT base.

Lines without a supply kind (typed by hand) keep their category but must still make sense:
never E with the reverse-charge code, never AE without the buyer's valid VAT id or between
parties of one country unless a domestic reverse-charge basis is named, never O where the
location's VAT applies (a deposit is billed with the supply kind ``deposit``).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coworking.addresses import country_of_vat_id
from coworking.identifiers import vat_id_error
from coworking.vat import VatCategory

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

# Standard VAT rates (%) in force in 2026, by the country of the location.
STANDARD_RATES = {
    "AT": Decimal("20"), "BE": Decimal("21"), "BG": Decimal("20"), "CY": Decimal("19"),
    "CZ": Decimal("21"), "DE": Decimal("19"), "DK": Decimal("25"), "EE": Decimal("24"),
    "ES": Decimal("21"), "FI": Decimal("25.5"), "FR": Decimal("20"), "GR": Decimal("24"),
    "HR": Decimal("25"), "HU": Decimal("27"), "IE": Decimal("23"), "IT": Decimal("22"),
    "LT": Decimal("21"), "LU": Decimal("17"), "LV": Decimal("21"), "MT": Decimal("18"),
    "NL": Decimal("21"), "PL": Decimal("23"), "PT": Decimal("23"), "RO": Decimal("21"),
    "SE": Decimal("25"), "SI": Decimal("22"), "SK": Decimal("23"), "GB": Decimal("20"),
    "CH": Decimal("8.1"), "NO": Decimal("25"),
}  # fmt: skip

# The national provision exempting the letting of immovable property (Art. 135(1)(l)).
LETTING_EXEMPTION = {
    "FR": "art. 261 D 2° CGI",
    "NL": "art. 11 lid 1 onderdeel b Wet OB 1968",
    "BE": "art. 44 § 3, 2° Code TVA/WBTW",
    "DE": "§ 4 Nr. 12 Buchst. a UStG",
    "LU": "art. 44 § 1 lettre g LTVA",
    "GB": "VATA 1994 Sch. 9 Group 1",
}
# Domestic reverse-charge provisions a line between parties of one country must name.
DOMESTIC_REVERSE_CHARGE = {
    "FR": ("283-2 nonies CGI", "283-2 sexies CGI"),
    "NL": ("art. 12 lid 5 Wet OB", "art. 24ba"),
    "BE": ("art. 20 KB nr. 1", "art. 20 AR n° 1", "art. 51 § 2"),
    "DE": ("§ 13b UStG",),
    "GB": ("VATA 1994 s. 55A",),
}

REVERSE_CHARGE_TEXT = "Reverse charge: VAT due by the customer (Art. 196 Directive 2006/112/EC)"
OUTSIDE_EU_TEXT = "Outside the scope of EU VAT: services to a business abroad (Art. 44)"
DEPOSIT_TEXT = "Deposit: not the consideration for a supply, outside the scope of VAT"


class SupplyKind(models.TextChoices):
    WORKSPACE = "workspace", gettext_lazy("Workspace use (desks, offices, meeting rooms)")
    GENERAL_SERVICE = (
        "general_service",
        gettext_lazy("General service (virtual office, mail, printing, events)"),
    )
    ON_SITE_GOODS = "on_site_goods", gettext_lazy("Goods and catering on site")
    EXEMPT_LETTING = "exempt_letting", gettext_lazy("Letting of property (exempt unless opted)")
    DEPOSIT = "deposit", gettext_lazy("Deposit (outside the scope of VAT)")


@dataclass(frozen=True)
class Seller:
    country: str
    opted_to_tax: bool = False

    @property
    def in_eu(self) -> bool:
        return self.country in EU_COUNTRIES


@dataclass(frozen=True)
class Buyer:
    """``vat_id`` is kept only when python-stdnum accepts it; a buyer is a business when it
    is a company or has such a VAT id."""

    country: str
    vat_id: str = ""
    is_business: bool = False

    @classmethod
    def of(cls, *, country: str, tax_id: str, company: bool) -> "Buyer":
        tax_id = (tax_id or "").strip()
        valid = tax_id if tax_id and vat_id_error(tax_id) is None else ""
        return cls(country=str(country or ""), vat_id=valid, is_business=company or bool(valid))

    @property
    def vat_country(self) -> str:
        """Where the business is registered for VAT: its VAT id's country, else its own."""
        return country_of_vat_id(self.vat_id) or self.country


@dataclass(frozen=True)
class Treatment:
    category: str
    rate: Decimal
    reason_code: str = ""
    reason: str = ""

    def same_as(self, other: "Treatment") -> bool:
        """Same category and rate and, where a code is stated, the same code (the wording of
        a reason may be staff's own)."""
        return (
            self.category == other.category
            and self.rate == other.rate
            and (self.reason_code or "") == (other.reason_code or "")
        )


class NoRule(Exception):
    """The facts given decide no VAT (e.g. no known rate for the country)."""


def standard_rate(country: str) -> Decimal:
    try:
        return STANDARD_RATES[country]
    except KeyError:
        raise NoRule(
            _("no standard VAT rate is known for %(country)s") % {"country": country}
        ) from None


def _taxed(seller: Seller, item_rate: Decimal | None = None) -> Treatment:
    rate = standard_rate(seller.country) if item_rate is None else item_rate
    return Treatment(VatCategory.STANDARD if rate > 0 else VatCategory.ZERO_RATED, rate)


def exempt_letting(seller: Seller) -> Treatment | None:
    """E with the country's basis, where it exempts letting and the location has not opted."""
    basis = LETTING_EXEMPTION.get(seller.country)
    if basis is None and seller.in_eu:
        basis = "Art. 135(1)(l) Directive 2006/112/EC"
    if basis is None or seller.opted_to_tax:
        return None
    return Treatment(
        VatCategory.EXEMPT,
        Decimal("0"),
        "VATEX-EU-135-1",
        f"Exempt: letting of immovable property ({basis})",
    )


def _business_abroad(seller: Seller, buyer: Buyer) -> str:
    """``"eu"`` (reverse charge), ``"outside"`` (outside the scope) or ``""`` (taxed here)."""
    if not buyer.is_business or buyer.vat_country == seller.country:
        return ""
    if seller.in_eu and buyer.vat_country in EU_COUNTRIES:
        return "eu" if buyer.vat_id else ""
    if not seller.in_eu or buyer.vat_country not in EU_COUNTRIES:
        return "outside"
    return ""


def allowed(
    *, kind: str, seller: Seller, buyer: Buyer, item_rate: Decimal | None = None
) -> list[Treatment]:
    """The treatments the rules allow for one line, the one they derive first."""
    if kind == SupplyKind.WORKSPACE:
        letting = exempt_letting(seller)
        return [_taxed(seller, item_rate), *([letting] if letting else [])]
    if kind == SupplyKind.GENERAL_SERVICE:
        abroad = _business_abroad(seller, buyer)
        if abroad == "eu":
            reverse = Treatment(
                VatCategory.REVERSE_CHARGE, Decimal("0"), "VATEX-EU-AE", REVERSE_CHARGE_TEXT
            )
            return [reverse, _taxed(seller, item_rate)]
        if abroad == "outside":
            outside = Treatment(
                VatCategory.OUTSIDE_SCOPE, Decimal("0"), "VATEX-EU-O", OUTSIDE_EU_TEXT
            )
            return [outside, _taxed(seller, item_rate)]
        return [_taxed(seller, item_rate)]
    if kind == SupplyKind.ON_SITE_GOODS:
        return [_taxed(seller, item_rate)]
    if kind == SupplyKind.EXEMPT_LETTING:
        letting = exempt_letting(seller)
        return [letting] if letting else [_taxed(seller, item_rate)]
    if kind == SupplyKind.DEPOSIT:
        return [Treatment(VatCategory.OUTSIDE_SCOPE, Decimal("0"), "VATEX-EU-O", DEPOSIT_TEXT)]
    raise NoRule(_("unknown supply kind %(kind)s") % {"kind": kind})


def derive(
    *, kind: str, seller: Seller, buyer: Buyer, item_rate: Decimal | None = None
) -> Treatment:
    return allowed(kind=kind, seller=seller, buyer=buyer, item_rate=item_rate)[0]


def names_domestic_basis(country: str, reason: str) -> bool:
    text = (reason or "").casefold()
    return any(basis.casefold() in text for basis in DOMESTIC_REVERSE_CHARGE.get(country, ()))


def consistency_error(*, line: Treatment, seller: Seller, buyer: Buyer) -> str | None:
    """Why this combination makes no sense whatever was sold, or ``None``."""
    if line.category == VatCategory.EXEMPT and line.reason_code == "VATEX-EU-AE":
        return _("an exempt (E) line cannot give the reverse-charge code VATEX-EU-AE")
    if line.category == VatCategory.REVERSE_CHARGE:
        if not buyer.vat_id:
            return _(
                "reverse charge (AE) needs the buyer's valid VAT id, and the customer has none"
            )
        if buyer.vat_country == seller.country and not names_domestic_basis(
            seller.country, line.reason
        ):
            return _(
                "reverse charge (AE) between two parties in %(country)s needs a domestic "
                "reverse-charge basis named in the exemption reason (e.g. %(example)s)"
            ) % {
                "country": seller.country,
                "example": (DOMESTIC_REVERSE_CHARGE.get(seller.country) or ("—",))[0],
            }
    return None


def typed_line_error(*, line: Treatment, seller: Seller, buyer: Buyer) -> str | None:
    """The checks of a line typed by hand (no supply kind)."""
    if error := consistency_error(line=line, seller=seller, buyer=buyer):
        return error
    if line.category == VatCategory.OUTSIDE_SCOPE and not _business_abroad(seller, buyer):
        return _outside_scope_error(seller)
    return None


def _outside_scope_error(seller: Seller) -> str:
    return _(
        "outside the scope of VAT (O) is not possible here: the service is taxable at the "
        "location (%(country)s); bill a deposit with the supply kind “deposit”"
    ) % {"country": seller.country}


def override_error(
    *,
    line: Treatment,
    kind: str,
    seller: Seller,
    buyer: Buyer,
    item_rate: Decimal | None = None,
) -> str | None:
    """Why staff may not bill a line of ``kind`` as ``line``, or ``None`` when the rules
    allow it."""
    if error := consistency_error(line=line, seller=seller, buyer=buyer):
        return error
    options = allowed(kind=kind, seller=seller, buyer=buyer, item_rate=item_rate)
    if any(line.same_as(option) for option in options):
        return None
    if line.category == VatCategory.REVERSE_CHARGE and kind == SupplyKind.GENERAL_SERVICE:
        return None  # a domestic reverse charge with its basis named (checked above)
    if line.category == VatCategory.OUTSIDE_SCOPE:
        return _outside_scope_error(seller)
    return _("%(kind)s to this customer allows only %(allowed)s") % {
        "kind": SupplyKind(kind).label,
        "allowed": ", ".join(describe(option) for option in options),
    }


def describe(treatment: Treatment) -> str:
    if treatment.category == VatCategory.STANDARD:
        return f"S {treatment.rate.normalize():f} %"
    if treatment.reason_code and treatment.category != VatCategory.REVERSE_CHARGE:
        return f"{treatment.category} ({treatment.reason_code})"
    return str(treatment.category)
