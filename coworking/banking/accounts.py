"""IBANs and BICs: stored compact and upper-case, printed in groups of four, and checked
with python-stdnum (the IBAN's country format and mod-97 check digits; the BIC's
ISO 9362 shape), each refusal a sentence the admin shows beside the field."""

from django.utils.translation import gettext as _
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

# What the database accepts (the check constraints of ``BankAccount`` and ``Customer``);
# python-stdnum checks the rest in ``iban_error``/``bic_error``.
IBAN_PATTERN = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
BIC_PATTERN = r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$"


def compact_iban(value: str) -> str:
    """``be68 5390 0754 7034`` → ``BE68539007547034``."""
    return stdnum_iban.compact(value or "")


def compact_bic(value: str) -> str:
    return stdnum_bic.compact(value or "")


def format_iban(value: str) -> str:
    """``BE68539007547034`` → ``BE68 5390 0754 7034``, as printed on documents."""
    return stdnum_iban.format(value) if value else ""


def iban_error(value: str) -> str:
    """Why ``value`` is not a valid IBAN, as a sentence; ``""`` when it is one."""
    compact = compact_iban(value)
    if len(compact) < 5 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return _(
            "%(iban)s is not a valid IBAN: it starts with a country code and two check "
            "digits, e.g. NL91 ABNA 0417 1643 00."
        ) % {"iban": value}
    try:
        stdnum_iban.validate(compact)
    except InvalidChecksum:
        return _(
            "%(iban)s is not a valid IBAN: its check digits do not match (a typing error?)."
        ) % {"iban": value}
    except InvalidComponent:
        return _("%(iban)s is not a valid IBAN: its country or bank code is not a known one.") % {
            "iban": value
        }
    except ValidationError:
        return _(
            "%(iban)s is not a valid IBAN: it does not have the length and format of its "
            "country's IBANs."
        ) % {"iban": value}
    return ""


def bic_error(value: str) -> str:
    """Why ``value`` is not a valid BIC (SWIFT code), as a sentence; ``""`` when it is one."""
    try:
        stdnum_bic.validate(value)
    except ValidationError:
        return _(
            "%(bic)s is not a valid BIC: 8 or 11 letters and digits, the bank, its "
            "country and location, e.g. GEBABEBB."
        ) % {"bic": value}
    return ""
