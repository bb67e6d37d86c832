"""The EPC QR code ("GiroCode", EPC069-12): a SEPA credit transfer a banking app scans
from the PDF, filled in with the payee, IBAN, amount and reference.

``epc_payload`` builds the text (pure, so it is tested by reading it back); ``qr_svg``
draws it with segno as inline SVG (the PDF renderer fetches no ``data:`` URL), error
correction level M as the guideline asks. Only euro transfers exist in SEPA: other
currencies get no code.
"""

import io
from decimal import Decimal

import segno

SERVICE_TAG = "BCD"
VERSION = "002"  # the BIC is optional within the EEA
UTF_8 = "1"
SEPA_CREDIT_TRANSFER = "SCT"
MAX_BYTES = 331
MAX_AMOUNT = Decimal("999999999.99")


def epc_payload(
    *, name: str, iban: str, amount: Decimal, bic: str = "", reference: str = "", text: str = ""
) -> str:
    """The QR code's text, lines separated by LF: service tag, version, character set,
    identification, BIC, payee name (70 characters at most), IBAN, ``EUR`` and the amount,
    purpose (none), the structured reference (an RF or Belgian creditor reference) or else
    up to 140 characters of ``text``. Raises ``ValueError`` when the amount is outside
    0.01…999,999,999.99 or the text is over the standard's 331 bytes."""
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        raise ValueError(f"An EPC QR code transfers 0.01 to {MAX_AMOUNT} EUR, not {amount}.")
    lines = [
        SERVICE_TAG,
        VERSION,
        UTF_8,
        SEPA_CREDIT_TRANSFER,
        bic,
        name[:70],
        iban,
        f"EUR{amount.quantize(Decimal('0.01'))}",
        "",
        reference[:35],
        "" if reference else text[:140],
    ]
    payload = "\n".join(lines).rstrip("\n")
    if len(payload.encode()) > MAX_BYTES:
        raise ValueError(f"An EPC QR code holds {MAX_BYTES} bytes at most.")
    return payload


def qr_svg(payload: str, *, size_mm: int = 30) -> str:
    """``payload`` as an inline ``<svg>`` element ``size_mm`` wide, black on white, with the
    four-module quiet zone scanners need."""
    code = segno.make(payload, error="m", micro=False, boost_error=False, encoding="utf-8")
    buffer = io.BytesIO()
    code.save(
        buffer, kind="svg", xmldecl=False, svgns=True, nl=False, border=4, omitsize=True,
        dark="#000", light="#fff",
    )  # fmt: skip
    return (
        buffer.getvalue()
        .decode()
        .replace("<svg ", f'<svg width="{size_mm}mm" height="{size_mm}mm" ', 1)
    )
