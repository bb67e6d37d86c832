"""Business identifiers on documents: VAT ids, French SIREN/SIRET, e-invoicing addresses.

Formats and check digits come from ``python-stdnum`` (one module per country); nothing
here asks a registry (VIES) whether the number is live.
"""

from django.utils.translation import gettext as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret
from stdnum.util import get_cc_module

from coworking.addresses import country_of_vat_id

# Peppol Electronic Address Scheme codes (EAS) the product offers for BT-34/BT-49.
ELECTRONIC_ADDRESS_SCHEMES = [
    ("0002", "0002 FR SIRENE"),
    ("0009", "0009 FR SIRET"),
    ("0088", "0088 GLN"),
    ("0106", "0106 NL KvK"),
    ("0190", "0190 NL OIN"),
    ("0192", "0192 NO Enhetsregisteret"),
    ("0208", "0208 BE enterprise number"),
    ("0225", "0225 FR SIREN (Peppol)"),
    ("9906", "9906 IT VAT"),
    ("9914", "9914 AT VAT"),
    ("9920", "9920 ES VAT"),
    ("9925", "9925 BE VAT"),
    ("9930", "9930 DE VAT"),
    ("9932", "9932 GB VAT"),
    ("9938", "9938 LU VAT"),
    ("9944", "9944 NL VAT"),
    ("9957", "9957 FR VAT"),
    ("EM", "EM e-mail address"),
]

# ISO 6523 ICD of a country's company register number, where one is in common use.
_REGISTRATION_SCHEMES = {"FR": "0002"}


def legal_registration_scheme(country: str) -> str:
    return _REGISTRATION_SCHEMES.get(country, "")


def vat_id_error(vat_id: str) -> str | None:
    """Why ``vat_id`` is not a VAT number of the country its prefix names, or ``None``."""
    vat_id = (vat_id or "").strip()
    country = country_of_vat_id(vat_id)
    if not country:
        return _("A VAT id starts with its country code, e.g. NL, FR, DE.")
    prefix = vat_id[:2].upper()
    module_country = "gr" if prefix == "EL" else country.lower()
    try:
        module = get_cc_module(module_country, "vat")
    except (ImportError, ValueError):
        module = None
    if module is None:
        return None  # no rules known for that country: accept the format as given
    try:
        module.validate(vat_id)
    except StdnumError:
        return _("%(vat_id)s is not a valid %(country)s VAT number.") % {
            "vat_id": vat_id,
            "country": country,
        }
    return None


def siren_error(value: str) -> str | None:
    try:
        siren.validate(value)
    except StdnumError:
        return _("A SIREN is 9 digits with a valid check digit.")
    return None


def siret_error(value: str, *, siren_number: str = "") -> str | None:
    try:
        siret.validate(value)
    except StdnumError:
        return _("A SIRET is 14 digits with a valid check digit.")
    if siren_number and not siret.compact(value).startswith(siren.compact(siren_number)):
        return _("The SIRET starts with the company's SIREN.")
    return None
