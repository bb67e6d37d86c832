"""What every issued document states the same way in its e-invoice: number, date, currency,
the parties as issued, its lines, its totals and its VAT in the VAT currency (BT-6, BT-111).

``invoicing.einvoice`` and ``credits.einvoice`` add what only their kind states; a credit
note states its amounts positive (``credited``).
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from coworking.einvoice import parties
from coworking.einvoice.document import AllowanceCharge, Line


def issued_fields(
    document: Any,
    *,
    lines: Iterable[Any],
    allowance_charges: Iterable[Any] = (),
    credited: bool = False,
) -> dict[str, Any]:
    """The ``coworking.einvoice.document.Document`` fields every kind of document shares
    (``allowance_charges``: its document level allowances and charges, stored positive)."""

    def stated(amount: Decimal) -> Decimal:
        return -amount if credited else amount

    vat_currency = document.vat_currency if document.vat_currency != document.currency else ""
    tax_vat_currency = document.tax_total_vat_currency
    return {
        "number": document.number,
        "issue_date": document.issue_date,
        "currency": document.currency,
        "seller": parties.seller_of(document),
        "buyer": parties.buyer_of(document),
        "lines": tuple(Line.of(line) for line in lines),
        "allowance_charges": tuple(AllowanceCharge.of(row) for row in allowance_charges),
        "net_total": stated(document.net_total.amount),
        "tax_total": stated(document.tax_total.amount),
        "total": stated(document.total.amount),
        "vat_currency": vat_currency,
        "tax_total_vat_currency": (
            stated(tax_vat_currency) if vat_currency and tax_vat_currency is not None else None
        ),
    }
