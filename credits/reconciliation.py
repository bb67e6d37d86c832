"""Checks of every invariant in DESIGN.md (and of partial credit notes) over the whole
database, or over what changed since the last clean run.

Each check returns a list of human-readable breaches (empty when it holds). They read
aggregates grouped in SQL. The per-invoice checks take ``invoices`` (an ``Ids``): the full
run (``reconcile``) passes windows of invoice ids, so memory holds one window's sums, not
the table's, and time grows linearly with the table (each window is an index range); no
server-side cursor is used, so it runs behind a transaction-pooling PgBouncer as well. The
incremental run (``reconcile_changed``) passes what changed after a checkpoint
(``ReconciliationCheckpoint``). The stored-PDF check reads every stored file (to hash it),
so it takes as long as reading them does.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Max, Min, Model, Q
from django.utils import timezone

from coworking.documents.storage import stored_pdf_breaches
from coworking.iteration import Ids, batches, each, walked
from coworking.models import Customer, LedgerEntry, Location
from coworking.money import ExactSum, MoneySum
from coworking.numbering import DocumentType, last_number
from credits.ledger_reconciliation import (
    CUSTOMER_WINDOW,
    check_balance_rows,
    check_ledger_balances,
    check_ledger_sources,
)
from credits.models import (
    CancellationEvent,
    CreditNote,
    CreditNoteAllowanceCharge,
    CreditNoteLine,
    ReconciliationCheckpoint,
    Refund,
)
from credits.vat_reconciliation import check_vat_per_document
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.selectors import available_credit

ZERO = Decimal("0")
QUANTITY_PLACES = InvoiceLine._meta.get_field("quantity").decimal_places
# Invoice ids per pass of a windowed check: what one pass holds in memory.
RECONCILE_WINDOW = 5000


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


def check_cancelled_invoices(*, invoices: Ids = Ids.ALL) -> list[str]:
    """A cancelled invoice is credited in full and has one cancellation event, whose credit
    note is the one that cancelled it; an invoice that is not cancelled has none."""
    breaches = [
        f"Invoice {number} is cancelled but has no cancellation event."
        for number in Invoice.objects.filter(
            invoices.q("pk"), state=Invoice.State.CANCELLED, cancellation_event__isnull=True
        ).values_list("number", flat=True)
    ]
    breaches += [
        f"Invoice {number} is cancelled but its credit notes credit {credited} of {total}."
        for number, credited, total in Invoice.objects.filter(
            invoices.q("pk"), state=Invoice.State.CANCELLED
        )
        .exclude(amount_credited=F("total"))
        .values_list("number", "amount_credited", "total")
    ]
    breaches += [
        f"Invoice {number} has a cancellation event but is {state}."
        for number, state in Invoice.objects.filter(
            invoices.q("pk"), cancellation_event__isnull=False
        )
        .exclude(state=Invoice.State.CANCELLED)
        .values_list("number", "state")
    ]
    cancelling = CreditNote.objects.filter(invoices.q("invoice_id"), cancels_invoice=True)
    breaches += [
        f"Credit note {number} cancels {invoice_number}, which is not cancelled."
        for number, invoice_number in cancelling.exclude(
            invoice__state=Invoice.State.CANCELLED
        ).values_list("number", "invoice_number")
    ]
    breaches += [
        f"Invoice {number} has {n} credit notes that cancel it."
        for number, n in cancelling.values_list("invoice__number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by()
    ]
    breaches += [
        f"The cancellation event of {invoice_number} names credit note {number}, which does "
        "not cancel it."
        for invoice_number, number in CancellationEvent.objects.filter(invoices.q("invoice_id"))
        .exclude(credit_note__cancels_invoice=True, credit_note__invoice_id=F("invoice_id"))
        .values_list("invoice__number", "credit_note__number")
    ]
    return breaches


def _per_key(rows) -> dict:
    """``(key, value, ...)`` rows as ``{key: [value, ...]}``."""
    return {key: list(values) for key, *values in rows}


def check_credits_within_invoices(*, invoices: Ids = Ids.ALL) -> list[str]:
    """Credit notes never credit more than their invoice: per line (quantity, net),
    per tax rate and in total; a cancelled invoice's notes equal it per tax rate, to the
    cent. Each note adds up to its lines and its discounts and charges on the whole note, is in
    its invoice's currency, credits only lines of its invoice, and the invoice's credited
    amount is the sum of its notes."""
    breaches = []
    for number, invoice_number in (
        CreditNote.objects.filter(invoices.q("invoice_id"))
        .exclude(currency=F("invoice__currency"))
        .values_list("number", "invoice__number")
        .order_by()
    ):
        breaches.append(f"Credit note {number} is not in the currency of {invoice_number}.")
    sums = _per_key(
        CreditNoteLine.objects.filter(invoices.q("credit_note__invoice_id"))
        .values_list("credit_note_id")
        .annotate(MoneySum("net"), MoneySum("tax"))
        .order_by()
    )
    for pk, kind, amount in (
        CreditNoteAllowanceCharge.objects.filter(invoices.q("credit_note__invoice_id"))
        .values_list("credit_note_id", "kind")
        .annotate(MoneySum("amount"))
        .order_by()
    ):  # the note's net: its lines' (negative) + its discounts − its charges
        sums.setdefault(pk, [ZERO, ZERO])[0] += -amount if kind == "charge" else amount
    for pk, number, net_total, tax_total in each(
        CreditNote.objects.filter(invoices.q("invoice_id")).values_list(
            "pk", "number", "net_total", "tax_total"
        )
    ):
        if sums.get(pk, [ZERO, ZERO]) != [net_total, tax_total]:
            breaches.append(
                f"Credit note {number}: totals {net_total}/{tax_total} but its lines add up to "
                f"{sums.get(pk)}."
            )
    breaches += [
        f"Credit note {number} credits a line of invoice {other}, not of {invoice_number}."
        for number, invoice_number, other in CreditNoteLine.objects.filter(
            invoices.q("credit_note__invoice_id")
        )
        .exclude(invoice_line__isnull=True)
        .exclude(invoice_line__invoice_id=F("credit_note__invoice_id"))
        .values_list(
            "credit_note__number", "credit_note__invoice_number", "invoice_line__invoice__number"
        )
    ]
    credited_lines = _per_key(
        CreditNoteLine.objects.filter(invoices.q("credit_note__invoice_id"))
        .exclude(invoice_line__isnull=True)
        .values_list("invoice_line_id")
        .annotate(ExactSum("quantity", decimal_places=QUANTITY_PLACES), MoneySum("net"))
        .order_by()
    )
    # A line's tax is its share of its rate's VAT (``invoicing.calculations``): the tax is
    # bounded per rate, below, not per line.
    for pk, number, position, quantity, net in (
        InvoiceLine.objects.filter(pk__in=list(credited_lines))
        .values_list("pk", "invoice__number", "position", "quantity", "net")
        .iterator()
    ):
        taken = [-value for value in credited_lines[pk]]
        if any(c > i for c, i in zip(taken, (quantity, net), strict=True)):
            breaches.append(
                f"Invoice {number} line {position}: credited {taken} (quantity, net) "
                f"of {[quantity, net]}."
            )
    invoiced = {
        (invoice_id, rate): values
        for invoice_id, rate, *values in InvoiceLine.objects.filter(invoices.q("invoice_id"))
        .exclude(invoice__state=Invoice.State.DRAFT)
        .values_list("invoice_id", "tax_rate")
        .annotate(MoneySum("net"), MoneySum("tax"))
        .order_by()
    }
    credited = {
        (invoice_id, rate): [-net, -tax]
        for invoice_id, rate, net, tax in CreditNoteLine.objects.filter(
            invoices.q("credit_note__invoice_id")
        )
        .values_list("credit_note__invoice_id", "tax_rate")
        .annotate(MoneySum("net"), MoneySum("tax"))
        .order_by()
    }
    cancelled = set(
        Invoice.objects.filter(invoices.q("pk"), state=Invoice.State.CANCELLED).values_list(
            "pk", flat=True
        )
    )
    for key in sorted(set(invoiced) | set(credited), key=str):
        invoice_id, rate = key
        have, given = invoiced.get(key, [ZERO, ZERO]), credited.get(key, [ZERO, ZERO])
        if invoice_id in cancelled and have != given:
            breaches.append(
                f"Invoice id {invoice_id} is cancelled; at {rate}% it invoiced net/tax {have} "
                f"but its credit notes credit {given}."
            )
        elif given[0] > have[0] or given[1] > have[1]:
            breaches.append(
                f"Invoice id {invoice_id} at {rate}%: credited net/tax {given} of {have}."
            )
    notes = dict(
        CreditNote.objects.filter(invoices.q("invoice_id"))
        .values_list("invoice_id")
        .annotate(MoneySum("total"))
        .order_by()
    )
    for pk, number, credited_amount, total in each(
        Invoice.objects.filter(invoices.q("pk"))
        .exclude(state=Invoice.State.DRAFT)
        .values_list("pk", "number", "amount_credited", "total")
    ):
        if -notes.get(pk, ZERO) != credited_amount or credited_amount > total:
            breaches.append(
                f"Invoice {number}: credited {credited_amount} of {total}, its credit notes "
                f"credit {-notes.get(pk, ZERO)}."
            )
    return breaches


def check_credit_allocation(*, invoices: Ids = Ids.ALL, customers: Ids = Ids.ALL) -> list[str]:
    """What each note credited beyond what was due went where it says: its refunds and
    settlements exist; what came off the amounts due, with the payments, leaves exactly
    the amount due; and the account credit per customer and currency (notes' account
    credit − credit applied − refunds of credit) is what the ledger says, never negative."""
    return [
        *(_notes_allocated(invoices=invoices) if invoices else []),
        *(_credit_held(customers=customers) if customers else []),
    ]


def _notes_allocated(*, invoices: Ids) -> list[str]:
    breaches = []
    refunds = {
        (note_id, kind): amount
        for note_id, kind, amount in Refund.objects.filter(invoices.q("credit_note__invoice_id"))
        .exclude(credit_note__isnull=True)
        .values_list("credit_note_id", "kind")
        .annotate(MoneySum("amount"))
        .order_by()
    }
    for pk, number, refund, settled in each(
        CreditNote.objects.filter(invoices.q("invoice_id")).values_list(
            "pk", "number", "refund_amount", "settled_outside_amount"
        )
    ):
        if refunds.get((pk, Refund.Kind.REFUND), ZERO) != refund or (
            refunds.get((pk, Refund.Kind.SETTLED_OUTSIDE), ZERO) != settled
        ):
            breaches.append(
                f"Credit note {number}: {refund} refunded and {settled} settled outside, but "
                "its refund records say otherwise."
            )
    # Summed exactly and compared here, in Decimal: SQLite would compare float sums.
    off_due = dict(
        CreditNote.objects.filter(invoices.q("invoice_id"))
        .values_list("invoice_id")
        .annotate(MoneySum("amount_off_due"))
        .order_by()
    )
    for pk, number, total, paid, credited in each(
        Invoice.objects.filter(invoices.q("pk"))
        .exclude(state=Invoice.State.DRAFT)
        .values_list("pk", "number", "total", "amount_paid", "amount_credited")
    ):
        left, due = total - paid - off_due.get(pk, ZERO), max(total - paid - credited, ZERO)
        if left != due:
            breaches.append(
                f"Invoice {number}: {due} due, but total − paid − credit off the amount due "
                f"is {left}."
            )
    return breaches


def _credit_held(*, customers: Ids) -> list[str]:
    breaches = []
    for window in walked(customers, model=Customer, size=CUSTOMER_WINDOW):
        breaches += _credit_held_by(customers=window)
    return breaches


def _credit_held_by(*, customers: Ids) -> list[str]:
    breaches = []
    expected: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for customer_id, currency, amount in (
        CreditNote.objects.filter(customers.q("customer_id"))
        .values_list("customer_id", "currency")
        .annotate(MoneySum("account_credit_amount"))
        .order_by()
    ):
        expected[(customer_id, currency)] += amount
    for customer_id, currency, amount in (
        Payment.objects.filter(
            customers.q("invoice__customer_id"), method=Payment.Method.ACCOUNT_CREDIT
        )
        .values_list("invoice__customer_id", "amount_currency")
        .annotate(MoneySum("amount"))
        .order_by()
    ):
        expected[(customer_id, currency)] -= amount
    for customer_id, currency, amount in (
        Refund.objects.filter(customers.q("customer_id"), credit_note__isnull=True)
        .values_list("customer_id", "amount_currency")
        .annotate(MoneySum("amount"))
        .order_by()
    ):
        expected[(customer_id, currency)] -= amount
    holders = {
        customer.pk: customer
        for customer in Customer.objects.filter(
            pk__in={customer_id for customer_id, _currency in expected}
        ).only("pk")
    }
    for (customer_id, currency), amount in sorted(expected.items()):
        held = available_credit(customer=holders[customer_id], currency=currency).amount
        if amount != held or amount < 0:
            breaches.append(
                f"Customer id {customer_id} in {currency}: {amount} of account credit by the "
                f"credit notes, payments and refunds, {held} by the ledger."
            )
    return breaches


def check_paid_amounts(*, invoices: Ids = Ids.ALL) -> list[str]:
    paid = dict(
        Payment.objects.filter(invoices.q("invoice_id"))
        .values_list("invoice_id")
        .annotate(MoneySum("amount"))
        .order_by()
    )
    breaches = []
    for pk, number, amount_paid in each(
        Invoice.objects.filter(invoices.q("pk"))
        .exclude(state=Invoice.State.DRAFT)
        .values_list("pk", "number", "amount_paid")
    ):
        if paid.get(pk, ZERO) != amount_paid:
            breaches.append(
                f"Invoice {number}: paid {amount_paid} but its payments add up to {paid.get(pk, ZERO)}."
            )
    return breaches


def check_stored_pdfs(*, invoices: Ids = Ids.ALL) -> list[str]:
    """Every ready PDF's file is in storage with the recorded SHA-256 (reads each file)."""
    return [
        *stored_pdf_breaches(queryset=Invoice.objects.filter(invoices.q("pk"))),
        *stored_pdf_breaches(queryset=CreditNote.objects.filter(invoices.q("invoice_id"))),
    ]


CHECKS: dict[str, Callable[..., list[str]]] = {
    "gapless numbering": check_gapless_numbers,
    "cancelled = credited in full, one cancellation each": check_cancelled_invoices,
    "credit notes within their invoice (line, rate, total)": check_credits_within_invoices,
    "credit beyond what was due went where it says": check_credit_allocation,
    "VAT per rate, rounded once (documents issued under that rule)": check_vat_per_document,
    "paid amounts = payments": check_paid_amounts,
    "ledger balance = invoices − payments − credit notes + refunds": check_ledger_balances,
    "each document on its own ledger entry, as posted": check_ledger_sources,
    "balance rows = ledger sums": check_balance_rows,
    "stored PDFs match their SHA-256": check_stored_pdfs,
}

# What each check reads, by ``Ids`` keyword: ``invoices`` (with their lines, payments,
# credit notes and refunds), ``customers`` (their sums per currency), ``entries`` (ledger
# entries), and the books' ``journal_entries``. A check without any reads everything on
# every run (a few grouped counts). The full run passes ``invoices`` in windows, so what it
# holds in memory is bounded by a window, not by the table; the rest it reads whole: a
# check given ``customers`` as ``Ids.ALL`` walks them in windows itself (``walked``), the
# others hold only the rows in breach or totals. ``WHOLE`` lists the checks a full run reads
# in one pass although they take ``invoices`` (they compare totals, streamed in chunks).
DIMENSIONS: dict[Callable[..., list[str]], tuple[str, ...]] = {
    check_cancelled_invoices: ("invoices",),
    check_credits_within_invoices: ("invoices",),
    check_credit_allocation: ("invoices", "customers"),
    check_vat_per_document: ("invoices",),
    check_paid_amounts: ("invoices",),
    check_ledger_balances: ("customers",),
    check_ledger_sources: ("entries",),
    check_balance_rows: ("customers",),
    check_stored_pdfs: ("invoices",),
}
WHOLE: set[Callable[..., list[str]]] = set()

# The tables whose highest id a checkpoint records (the books add theirs).
HIGH_WATER: dict[str, type[Model]] = {
    "invoice": Invoice,
    "payment": Payment,
    "credit_note": CreditNote,
    "refund": Refund,
    "ledger_entry": LedgerEntry,
}


def reconcile() -> dict[str, list[str]]:
    """Run every check over the whole database; returns breaches per check name (all
    lists empty when clean). Memory stays bounded by a window of invoices."""
    # The invoices' span is read once: every check walks the same windows.
    invoice_windows = list(walked(Ids.ALL, model=Invoice, size=RECONCILE_WINDOW))
    results = {}
    for name, check in CHECKS.items():
        dimensions = DIMENSIONS.get(check, ())
        if "invoices" not in dimensions or check in WHOLE:
            results[name] = check()
            continue
        others = {dimension: Ids.NONE for dimension in dimensions if dimension != "invoices"}
        breaches = []
        for window in invoice_windows:
            breaches += check(invoices=window, **others)
        if others:
            breaches += check(invoices=Ids.NONE, **dict.fromkeys(others, Ids.ALL))
        results[name] = breaches
    return results


def reconcile_changed(*, since: dict[str, int], started_at) -> dict[str, list[str]]:
    """Run every check over what changed after a checkpoint: rows with higher ids than
    ``since`` (per ``HIGH_WATER`` table), the invoices and customers they touch, and
    invoices issued from ``started_at`` on. What reads everything on every run (numbering,
    counts) runs whole."""
    changed = {
        name: changed_ids(since=since, started_at=started_at)
        for name, changed_ids in CHANGED.items()
    }
    results = {}
    for name, check in CHECKS.items():
        dimensions = DIMENSIONS.get(check, ())
        if not dimensions:
            results[name] = check()
            continue
        breaches = []
        for dimension in dimensions:
            others = {other: Ids.NONE for other in dimensions if other != dimension}
            for ids in changed[dimension]:
                breaches += check(**{dimension: ids}, **others)
        results[name] = breaches
    return results


def _changed_invoices(*, since, started_at) -> list[Ids]:
    touched = set(
        Invoice.objects.filter(
            Q(pk__gt=since.get("invoice", 0))
            | Q(ledger_entry_id__gt=since.get("ledger_entry", 0))
            | Q(issued_at__gte=started_at)
        ).values_list("pk", flat=True)
    )
    touched |= set(
        Payment.objects.filter(pk__gt=since.get("payment", 0)).values_list("invoice_id", flat=True)
    )
    touched |= set(
        CreditNote.objects.filter(pk__gt=since.get("credit_note", 0)).values_list(
            "invoice_id", flat=True
        )
    )
    touched |= set(
        Refund.objects.filter(pk__gt=since.get("refund", 0), credit_note__isnull=False).values_list(
            "credit_note__invoice_id", flat=True
        )
    )
    return list(batches(touched, size=RECONCILE_WINDOW))


def _changed_customers(*, since, started_at) -> list[Ids]:
    touched = set(
        LedgerEntry.objects.filter(pk__gt=since.get("ledger_entry", 0)).values_list(
            "customer_id", flat=True
        )
    )
    touched |= set(
        Payment.objects.filter(pk__gt=since.get("payment", 0)).values_list(
            "invoice__customer_id", flat=True
        )
    )
    touched |= set(
        CreditNote.objects.filter(pk__gt=since.get("credit_note", 0)).values_list(
            "customer_id", flat=True
        )
    )
    touched |= set(
        Refund.objects.filter(pk__gt=since.get("refund", 0)).values_list("customer_id", flat=True)
    )
    return list(batches(touched, size=RECONCILE_WINDOW))


CHANGED: dict[str, Callable[..., list[Ids]]] = {
    "invoices": _changed_invoices,
    "customers": _changed_customers,
    "entries": lambda *, since, started_at: [Ids(after=since.get("ledger_entry", 0))],
}


@dataclass(frozen=True)
class ReconciliationRun:
    results: dict[str, list[str]]
    since: ReconciliationCheckpoint | None  # the checkpoint an incremental run started from

    @property
    def clean(self) -> bool:
        return not any(self.results.values())


def reconciliation_run(*, incremental: bool = False) -> ReconciliationRun:
    """Reconcile everything, or with ``incremental`` only what changed since the newest
    checkpoint (everything when there is none yet); when clean, record a checkpoint at the
    highest ids as they were when the run started. Rows are read after those ids are, so a
    row committed during the run is checked now or by the next run. A transaction still
    open when the run starts that commits a lower id after the run has read past it is
    left to the next full run."""
    started_at = timezone.now()
    positions = {
        name: model._default_manager.aggregate(high=Max("pk"))["high"] or 0
        for name, model in HIGH_WATER.items()
    }
    since = ReconciliationCheckpoint.objects.first() if incremental else None
    if since is None:
        results = reconcile()
    else:
        results = reconcile_changed(since=since.positions, started_at=since.started_at)
    run = ReconciliationRun(results=results, since=since)
    if run.clean:
        ReconciliationCheckpoint.objects.create(
            started_at=started_at, incremental=since is not None, positions=positions
        )
    return run
