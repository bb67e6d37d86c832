"""Checks of every invariant in DESIGN.md over the whole database.

Each check returns a list of human-readable breaches (empty when it holds). They read
aggregates grouped in SQL, so they stay usable on hundreds of thousands of documents; the
stored-PDF check alone reads every stored file (to hash it), so it takes as long as reading
them does.
"""

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Q, Sum

from coworking.documents.storage import stored_pdf_breaches
from coworking.models import LedgerEntry, Location
from coworking.numbering import DocumentType, last_number
from credits.models import CancellationEvent, CreditNote, CreditNoteLine
from invoicing.models import Invoice, InvoiceLine, Payment

ZERO = Decimal("0")


def check_gapless_numbers() -> list[str]:
    """Numbers of each location and document type are exactly 1..N, N = the counter."""
    breaches = []
    series = [
        (DocumentType.INVOICE, Invoice.objects.exclude(state=Invoice.State.DRAFT)),
        (DocumentType.CREDIT_NOTE, CreditNote.objects.all()),
    ]
    locations = dict(Location.objects.values_list("pk", "name"))
    for document_type, queryset in series:
        stats = {
            row["location_id"]: row
            for row in queryset.values("location_id").annotate(
                n=Count("id"),
                distinct=Count("sequence_number", distinct=True),
                low=Min("sequence_number"),
                high=Max("sequence_number"),
            )
        }
        for location_id, name in locations.items():
            row = stats.get(location_id, {"n": 0, "distinct": 0, "low": None, "high": 0})
            counter = last_number(location_id=location_id, document_type=document_type)
            label = f"{document_type} numbers of {name}"
            if row["n"] and (
                row["low"] != 1 or row["high"] != row["n"] or row["distinct"] != row["n"]
            ):
                breaches.append(
                    f"{label}: {row['n']} documents numbered {row['low']}..{row['high']} "
                    f"({row['distinct']} distinct): not 1..N without gaps."
                )
            if (row["high"] or 0) != counter:
                breaches.append(
                    f"{label}: the counter is at {counter} but the highest number is {row['high'] or 0}."
                )
    return breaches


def check_one_credit_note_per_cancelled_invoice() -> list[str]:
    breaches = [
        f"Invoice {number} is cancelled but has no credit note."
        for number in Invoice.objects.filter(
            state=Invoice.State.CANCELLED, credit_note__isnull=True
        ).values_list("number", flat=True)
    ]
    breaches += [
        f"Credit note {number} cancels {invoice_number}, which is not cancelled."
        for number, invoice_number in CreditNote.objects.exclude(
            invoice__state=Invoice.State.CANCELLED
        ).values_list("number", "invoice_number")
    ]
    breaches += [
        f"Invoice {number} is cancelled but has no cancellation event."
        for number in Invoice.objects.filter(
            state=Invoice.State.CANCELLED, cancellation_event__isnull=True
        ).values_list("number", flat=True)
    ]
    return breaches


def check_credit_note_totals() -> list[str]:
    """Credit note = −invoice, per tax rate, to the cent, in the same currency."""
    breaches = []
    for (
        number,
        invoice_number,
        cn_currency,
        inv_currency,
        cn_total,
        inv_total,
    ) in CreditNote.objects.values_list(
        "number",
        "invoice__number",
        "currency",
        "invoice__currency",
        "total",
        "invoice__total",
    ).filter(~Q(currency=F("invoice__currency")) | ~Q(total=-F("invoice__total"))):
        breaches.append(
            f"Credit note {number} ({cn_total} {cn_currency}) does not cancel invoice "
            f"{invoice_number} ({inv_total} {inv_currency}) exactly."
        )
    invoice_rates = defaultdict(lambda: [ZERO, ZERO])
    for invoice_id, rate, net, tax in (
        InvoiceLine.objects.filter(invoice__state=Invoice.State.CANCELLED)
        .values_list("invoice_id", "tax_rate")
        .annotate(Sum("net"), Sum("tax"))
    ):
        invoice_rates[(invoice_id, rate)] = [net, tax]
    note_rates = defaultdict(lambda: [ZERO, ZERO])
    for invoice_id, rate, net, tax in CreditNoteLine.objects.values_list(
        "credit_note__invoice_id", "tax_rate"
    ).annotate(Sum("net"), Sum("tax")):
        note_rates[(invoice_id, rate)] = [-net, -tax]
    for key in sorted(set(invoice_rates) | set(note_rates), key=str):
        if invoice_rates[key] != note_rates[key]:
            invoice_id, rate = key
            breaches.append(
                f"Invoice id {invoice_id} at {rate}%: invoice net/tax {invoice_rates[key]} but "
                f"credit note mirrors {note_rates[key]}."
            )
    return breaches


def check_paid_amounts() -> list[str]:
    paid = dict(Payment.objects.values_list("invoice_id").annotate(Sum("amount")).order_by())
    breaches = []
    for pk, number, amount_paid in Invoice.objects.exclude(state=Invoice.State.DRAFT).values_list(
        "pk", "number", "amount_paid"
    ):
        if paid.get(pk, ZERO) != amount_paid:
            breaches.append(
                f"Invoice {number}: paid {amount_paid} but its payments add up to {paid.get(pk, ZERO)}."
            )
    return breaches


def check_ledger_balances() -> list[str]:
    """Per customer and currency: ledger = issued invoices − payments − credit notes."""
    expected: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for customer_id, currency, total in (
        Invoice.objects.exclude(state=Invoice.State.DRAFT)
        .values_list("customer_id", "currency")
        .annotate(Sum("total"))
        .order_by()
    ):
        expected[(customer_id, currency)] += total
    for customer_id, currency, total in (
        Payment.objects.exclude(method=Payment.Method.ACCOUNT_CREDIT)
        .values_list("invoice__customer_id", "amount_currency")
        .annotate(Sum("amount"))
        .order_by()
    ):
        expected[(customer_id, currency)] -= total
    for customer_id, currency, total in (
        CreditNote.objects.values_list("customer_id", "currency").annotate(Sum("total")).order_by()
    ):
        expected[(customer_id, currency)] += total  # credit note totals are negative
    actual: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for customer_id, currency, total in (
        LedgerEntry.objects.values_list("customer_id", "amount_currency")
        .annotate(Sum("amount"))
        .order_by()
    ):
        actual[(customer_id, currency)] = total
    breaches = []
    for key in sorted(set(expected) | set(actual)):
        if expected[key] != actual[key]:
            breaches.append(
                f"Customer id {key[0]} in {key[1]}: ledger balance {actual[key]} but documents "
                f"say {expected[key]}."
            )
    entries = LedgerEntry.objects.aggregate(
        invoices=Count("id", filter=Q(kind=LedgerEntry.Kind.INVOICE)),
        payments=Count("id", filter=Q(kind=LedgerEntry.Kind.PAYMENT)),
        credit_notes=Count("id", filter=Q(kind=LedgerEntry.Kind.CREDIT_NOTE)),
    )
    documents = {
        "invoices": Invoice.objects.exclude(state=Invoice.State.DRAFT).count(),
        "payments": Payment.objects.exclude(method=Payment.Method.ACCOUNT_CREDIT).count(),
        "credit_notes": CreditNote.objects.count(),
    }
    for kind, count in documents.items():
        if entries[kind] != count:
            breaches.append(f"{count} {kind} but {entries[kind]} ledger entries for them.")
    events = CancellationEvent.objects.count()
    if events != documents["credit_notes"]:
        breaches.append(
            f"{documents['credit_notes']} credit notes but {events} cancellation events."
        )
    return breaches


def check_stored_pdfs() -> list[str]:
    """Every ready PDF's file is in storage with the recorded SHA-256 (reads each file)."""
    return [
        *stored_pdf_breaches(queryset=Invoice.objects.all()),
        *stored_pdf_breaches(queryset=CreditNote.objects.all()),
    ]


CHECKS: dict[str, Callable[[], list[str]]] = {
    "gapless numbering": check_gapless_numbers,
    "one credit note per cancelled invoice": check_one_credit_note_per_cancelled_invoice,
    "credit note = invoice per tax rate": check_credit_note_totals,
    "paid amounts = payments": check_paid_amounts,
    "ledger balance = invoices − payments − credit notes": check_ledger_balances,
    "stored PDFs match their SHA-256": check_stored_pdfs,
}


def reconcile() -> dict[str, list[str]]:
    """Run every check; returns breaches per check name (all lists empty when clean)."""
    return {name: check() for name, check in CHECKS.items()}
