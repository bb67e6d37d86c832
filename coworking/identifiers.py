"""Business identifiers on documents: VAT ids, company register numbers with their ISO 6523
schemes, e-invoicing (Peppol) addresses.

Formats and check digits come from ``python-stdnum`` (one module per country) where it
knows the number; a Dutch KvK number (8 digits) and a UK company number (8 characters)
are checked for their shape only. Nothing here asks a registry (VIES, KBO, Companies
House) whether the number is live.
"""

import re

from django.utils.translation import gettext as _
from stdnum.be import vat as be_enterprise
from stdnum.de import handelsregisternummer
from stdnum.ean import is_valid as gln_is_valid
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret
from stdnum.util import get_cc_module

from coworking.addresses import country_of_vat_id

# Peppol Electronic Address Scheme codes (EAS) the product offers for BT-34/BT-49. No
# e-mail scheme: Peppol's code list has none (PEPPOL-EN16931-CL008); a party without a
# Peppol address gets its documents by e-mail or the portal and states no address.
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
]
_VAT_SCHEMES = {"9906", "9914", "9920", "9925", "9930", "9932", "9938", "9944", "9957"}

# ISO 6523 ICD of a country's company register number (BT-30, BT-47 scheme). Germany's
# Handelsregister and the UK's Companies House have none: their numbers go without one.
SIREN_SCHEME, SIRET_SCHEME, KVK_SCHEME, BE_ENTERPRISE_SCHEME = "0002", "0009", "0106", "0208"
_REGISTRATION_SCHEMES = {"FR": SIREN_SCHEME, "NL": KVK_SCHEME, "BE": BE_ENTERPRISE_SCHEME}
_KVK = re.compile(r"^[0-9]{8}$")
_UK_COMPANY = re.compile(r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6})$")


def _digits(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value or "").upper()


def legal_registration_scheme(country: str, registration_id: str = "") -> str:
    """The ISO 6523 scheme of a company register number of ``country`` (a French one of
    14 digits is a SIRET, 0009; of 9 a SIREN, 0002), or ``""`` where none is in use."""
    if country == "FR" and len(_digits(registration_id)) == 14:
        return SIRET_SCHEME
    return _REGISTRATION_SCHEMES.get(country, "")


def registration_id_value(country: str, registration_id: str) -> str:
    """The number as documents state it under its scheme: digits only where the scheme
    wants digits (``0403.170.701`` → ``0403170701``), otherwise as typed."""
    if legal_registration_scheme(country, registration_id):
        return _digits(registration_id).removeprefix("BE")
    return registration_id.strip()


def registration_id_error(country: str, registration_id: str) -> str | None:
    """Why ``registration_id`` is not a company register number of ``country``, or
    ``None`` (also for countries whose numbers are not checked)."""
    value = registration_id_value(country, registration_id)
    if country == "FR":
        return siret_error(value) if len(value) == 14 else siren_error(value)
    if country == "NL" and not _KVK.match(value):
        return _("A KvK number is 8 digits.")
    if country == "BE" and not be_enterprise.is_valid(value):
        return _("A Belgian enterprise number is 10 digits with valid check digits.")
    if country == "GB" and not _UK_COMPANY.match(value.upper()):
        return _("A UK company number is 8 digits, or 2 letters and 6 digits.")
    if country == "DE" and not handelsregisternummer.is_valid(value):
        return _("A Handelsregister number names its court and register, e.g. Berlin HRB 12345.")
    return None


def registration_label(country: str, scheme: str) -> str:
    """What a document calls the company register number: ``KvK`` in the Netherlands,
    ``SIREN``/``SIRET`` in France, the enterprise number in Belgium."""
    by_scheme = {
        SIREN_SCHEME: "SIREN",
        SIRET_SCHEME: "SIRET",
        KVK_SCHEME: "KvK",
        BE_ENTERPRISE_SCHEME: _("Enterprise number"),
    }
    by_country = {"GB": _("Company number"), "DE": _("Commercial register")}
    return by_scheme.get(scheme) or by_country.get(country) or _("Registration")


def electronic_address_error(scheme: str, address: str) -> str | None:
    """Why ``address`` is not a participant id under the EAS ``scheme``, or ``None``."""
    if not scheme or not address:
        return None
    if scheme in _VAT_SCHEMES:
        return vat_id_error(address)
    checks = {
        "0002": lambda: siren_error(address),
        "0225": lambda: siren_error(address),
        "0009": lambda: siret_error(address),
        "0106": lambda: registration_id_error("NL", address),
        "0208": lambda: registration_id_error("BE", address),
        "0088": lambda: (
            None if gln_is_valid(address) else _("A GLN is 13 digits with a valid check digit.")
        ),
    }
    if scheme in checks and (error := checks[scheme]()):
        return error
    if scheme in {"0106", "0208", "0002", "0009", "0225"} and address != _digits(address):
        return _("Write the number as digits only, without spaces or dots.")
    return None


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
