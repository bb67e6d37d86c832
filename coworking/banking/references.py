"""The payment reference an invoice asks the customer to quote (EN 16931 BT-83), so each
incoming transfer matches its invoice without reading free text.

- A Belgian location asks for the **structured communication** (OGM/VCS) Belgian banks
  know: ten digits and two mod-97 check digits, printed ``+++123/4567/89012+++``. The ten
  digits are the invoice's id, unique across the operator.
- Elsewhere, an **ISO 11649 RF creditor reference**: ``RF``, two mod-97 check digits and
  the invoice number's letters and digits (``RF18AMS2026000042``), which SEPA banks carry
  end to end and check, and a human still reads as the invoice number.
"""

from stdnum.be import ogm_vcs
from stdnum.iso7064 import mod_97_10
from stdnum.iso11649 import format as format_rf

STRUCTURED_DIGITS = 10
RF_MAX_REFERENCE = 21  # ISO 11649: up to 25 characters, RF and the check digits included


def belgian_structured_reference(number: int) -> str:
    """``+++123/4567/89012+++`` for ``number`` (1 up to 10 digits) with its check digits:
    the ten digits modulo 97, 97 where that is 0."""
    if not 0 < number < 10**STRUCTURED_DIGITS:
        raise ValueError(f"A structured communication holds 1 to 10 digits, not {number}.")
    digits = f"{number:0{STRUCTURED_DIGITS}d}"
    return f"+++{ogm_vcs.format(digits + ogm_vcs.calc_check_digits(digits))}+++"


def rf_creditor_reference(reference: str) -> str:
    """``RF`` + check digits + ``reference`` (its letters and digits, upper-cased; at most
    21): the check digits make the reference with ``RF`` and them moved to its end
    ``≡ 1 (mod 97)``, letters counting A=10…Z=35, as IBANs do."""
    body = "".join(char for char in reference.upper() if char.isalnum())
    if not body or len(body) > RF_MAX_REFERENCE or not body.isascii():
        raise ValueError(
            f"An RF creditor reference holds 1 to 21 letters or digits: {reference!r}."
        )
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body


def invoice_payment_reference(*, country: str, invoice_id: int, number: str) -> str:
    """The reference an invoice of a location in ``country`` carries (compact, as the
    e-invoice states it; ``printed_reference`` groups it for reading)."""
    if country == "BE":
        return belgian_structured_reference(invoice_id)
    return rf_creditor_reference(number)


def printed_reference(reference: str) -> str:
    """A reference as printed: an RF reference in groups of four, anything else as is."""
    return format_rf(reference) if reference.startswith("RF") else reference


def epc_remittance(reference: str) -> str:
    """The reference as an EPC QR code carries it: a structured communication by its twelve
    digits, an RF reference compact."""
    if reference.startswith("+++"):
        return ogm_vcs.compact(reference)
    return reference
