"""``reconcile``'s check of the VAT rule on documents issued under it (``vat_rounding`` is
``document``; those issued before keep their per-line amounts and are not held to it).

- An invoice: each line's net is its quantity × unit price rounded once, and the VAT of each
  rate is the rate's base (its lines' nets moved by its document level discounts and
  charges) × the rate, rounded once (``invoicing.calculations``).
- A credit note, taken in the order its invoice's notes were issued: the VAT of each rate is
  its own base × the rate, rounded once, never more than the VAT its invoice has left at
  the rate; when it credits all the net left at the rate, exactly the VAT left.

One aggregate query per kind of row, whatever the number of documents.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import F
from django.db.models.functions import Round

from coworking.documents.models import VatRounding
from coworking.iteration import Ids
from coworking.money import DECIMAL_PLACES, MoneySum
from credits.models import CreditNote, CreditNoteLine
from invoicing.calculations import line_net, rate_key, rate_tax
from invoicing.models import Invoice, InvoiceAllowanceCharge, InvoiceLine

ZERO = Decimal("0.00")


def _lines_not_multiplying_out(lines):
    """``(number, position, net, quantity, price, allowance)`` of the lines whose net is not
    quantity × price rounded once − the line's allowance (``line_net``): compared in SQL on
    PostgreSQL (exact ``numeric``), in Python on the embedded SQLite (whose decimals are
    binary floats)."""
    columns = ("invoice__number", "position", "net", "quantity", "unit_price", "allowance")
    if connection.vendor != "postgresql":
        return [
            row
            for row in lines.values_list(*columns).iterator()
            if row[2] != line_net(quantity=row[3], unit_price=row[4], allowance=row[5])
        ]
    computed = Round(F("quantity") * F("unit_price"), DECIMAL_PLACES) - F("allowance")
    return lines.alias(computed=computed).exclude(net=F("computed")).values_list(*columns)


def check_vat_per_document(*, invoices: Ids = Ids.ALL) -> list[str]:
    breaches = []
    by_rule = InvoiceLine.objects.filter(
        invoices.q("invoice_id"), invoice__vat_rounding=VatRounding.PER_DOCUMENT
    ).exclude(invoice__state=Invoice.State.DRAFT)
    breaches += [
        f"Invoice {number} line {position}: net {net} is not {quantity} × {price} rounded once"
        + (f" − {allowance}" if allowance else "")
        + "."
        for number, position, net, quantity, price, allowance in _lines_not_multiplying_out(by_rule)
    ]
    moved: dict[tuple[int, Decimal], Decimal] = defaultdict(lambda: ZERO)
    for invoice_id, rate, kind, amount in (
        InvoiceAllowanceCharge.objects.filter(invoices.q("invoice_id"))
        .exclude(invoice__state=Invoice.State.DRAFT)
        .values_list("invoice_id", "tax_rate", "kind")
        .annotate(MoneySum("amount"))
        .order_by()
    ):
        moved[(invoice_id, rate_key(rate))] += amount if kind == "charge" else -amount
    invoiced: dict[int, dict[Decimal, list[Decimal]]] = defaultdict(dict)
    numbers = {}
    for invoice_id, number, rule, rate, net, tax in (
        InvoiceLine.objects.filter(invoices.q("invoice_id"))
        .exclude(invoice__state=Invoice.State.DRAFT)
        .values_list("invoice_id", "invoice__number", "invoice__vat_rounding", "tax_rate")
        .annotate(MoneySum("net"), MoneySum("tax"))
        .order_by()
    ):
        invoiced[invoice_id][rate_key(rate)] = [net, tax]
        numbers[invoice_id] = number
        base = net + moved[(invoice_id, rate_key(rate))]
        if rule == VatRounding.PER_DOCUMENT and tax != rate_tax(taxable=base, rate=rate):
            breaches.append(
                f"Invoice {number} at {rate}%: VAT {tax} on a base of {base}, not "
                f"{rate_tax(taxable=base, rate=rate)}."
            )
    notes: dict[int, dict[Decimal, list[Decimal]]] = defaultdict(dict)
    for note_id, rate, net, tax in (
        CreditNoteLine.objects.filter(invoices.q("credit_note__invoice_id"))
        .values_list("credit_note_id", "tax_rate")
        .annotate(MoneySum("net"), MoneySum("tax"))
        .order_by()
    ):
        notes[note_id][rate_key(rate)] = [-net, -tax]
    for note_id, number, invoice_id, rule in (
        CreditNote.objects.filter(invoices.q("invoice_id"))
        .order_by("invoice_id", "created_at", "pk")
        .values_list("pk", "number", "invoice_id", "vat_rounding")
    ):
        left = invoiced[invoice_id]
        for rate, (net, tax) in sorted(notes.get(note_id, {}).items()):
            left_net, left_tax = left.get(rate, [ZERO, ZERO])
            expected = (
                left_tax if net >= left_net else min(rate_tax(taxable=net, rate=rate), left_tax)
            )
            if rule == VatRounding.PER_DOCUMENT and tax != expected:
                breaches.append(
                    f"Credit note {number} at {rate}%: VAT {tax} on a base of {net}, not "
                    f"{expected} (its base × the rate, or what {numbers[invoice_id]} had left)."
                )
            left[rate] = [left_net - net, left_tax - tax]
    return breaches
