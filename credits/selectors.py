"""Reads of credits: the credit notes a user may see, what is left to credit on an invoice,
what cancelling a selection would do, and how a bulk cancellation is going."""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from djmoney.money import Money

from coworking.allowances import ALLOWANCE_FIELDS
from coworking.money import CENT, ExactSum, MoneySum, exact_money, format_money
from coworking.selectors import visible_to
from credits.models import BulkCancellation, BulkCancellationItem, CreditNote, CreditNoteLine
from credits.policies import CANCELLABLE_STATES, cancel_refusal
from invoicing.models import Invoice, InvoiceLine

ZERO = Decimal("0.00")
ZERO_QUANTITY = Decimal("0")
QUANTITY_PLACES = InvoiceLine._meta.get_field("quantity").decimal_places
VAT_LINE_FIELDS = (
    "vat_category",
    "vat_exemption_reason",
    "vat_exemption_reason_code",
    "period_start",
    "period_end",
)


def visible_credit_notes(*, user) -> QuerySet[CreditNote]:
    """Credit notes ``user`` may see: all of them with ``credits.view_creditnote`` (staff),
    their own customer's for a portal user, none for anybody else."""
    notes = CreditNote.objects.all()
    return visible_to(
        user=user,
        rows=notes,
        permission="credits.view_creditnote",
        own=lambda customer: notes.filter(customer=customer),
    )


def tax_rate_key(rate) -> Decimal:
    """Tax rates compare as numbers with two decimals (``21`` is ``21.00``)."""
    return Decimal(rate).quantize(CENT)


@dataclass(frozen=True)
class CreditableLine:
    """One invoice line: what it invoiced and what its credit notes credited so far
    (positive amounts, in the invoice's currency)."""

    id: int
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    credited_quantity: Decimal
    credited_net: Decimal
    credited_tax: Decimal
    vat: dict  # VAT category, exemption reason and code, service period (copied when credited)
    allowance: Decimal = ZERO  # the line's discount, and its reason and code
    allowance_reason: dict = field(default_factory=dict)

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.credited_quantity

    @property
    def remaining_net(self) -> Decimal:
        return self.net - self.credited_net

    @property
    def remaining_tax(self) -> Decimal:
        return self.tax - self.credited_tax


@dataclass(frozen=True)
class CreditableRate:
    """One tax rate of an invoice: invoiced, credited by line and credited as free amounts."""

    rate: Decimal
    net: Decimal
    tax: Decimal
    credited_net: Decimal
    credited_tax: Decimal
    amount_credited_net: Decimal  # the part of credited_net credited as free amounts

    @property
    def remaining_net(self) -> Decimal:
        return self.net - self.credited_net

    @property
    def remaining_tax(self) -> Decimal:
        return self.tax - self.credited_tax


@dataclass(frozen=True)
class Creditable:
    """What is left to credit on one invoice, per line and per tax rate."""

    invoice: Invoice
    lines: list[CreditableLine]
    rates: dict[Decimal, CreditableRate]  # keyed by ``tax_rate_key``

    @property
    def remaining(self) -> Money:
        return self.invoice.amount_creditable

    def line(self, line_id) -> CreditableLine | None:
        return next((line for line in self.lines if line.id == line_id), None)


def invoice_creditable(*, invoice: Invoice) -> Creditable:
    """What each line and tax rate of ``invoice`` has left to credit (two queries, whatever
    the number of lines). ``credit_note_issue`` reads it with the invoice locked; read
    without the lock it is a preview that a concurrent credit note may overtake."""
    lines = [
        CreditableLine(
            id=row["id"],
            position=row["position"],
            description=row["description"],
            quantity=row["quantity"],
            unit_price=row["unit_price"],
            tax_rate=row["tax_rate"],
            net=row["net"],
            tax=row["tax"],
            credited_quantity=-(row["credited_quantity"] or ZERO_QUANTITY),
            credited_net=-(row["credited_net"] or ZERO),
            credited_tax=-(row["credited_tax"] or ZERO),
            vat={name: row[name] for name in VAT_LINE_FIELDS},
            allowance=row["allowance"],
            allowance_reason={name: row[name] for name in ALLOWANCE_FIELDS[1:]},
        )
        for row in InvoiceLine.objects.filter(invoice_id=invoice.pk)
        .values(
            "id",
            "position",
            "description",
            "quantity",
            "unit_price",
            "tax_rate",
            "net",
            "tax",
            *VAT_LINE_FIELDS,
            *ALLOWANCE_FIELDS,
        )
        .annotate(
            # Exact sums (not Coalesce-wrapped: on SQLite they are whole minor units).
            credited_quantity=ExactSum("credit_lines__quantity", decimal_places=QUANTITY_PLACES),
            credited_net=MoneySum("credit_lines__net"),
            credited_tax=MoneySum("credit_lines__tax"),
        )
        .order_by("position")
    ]
    amounts = {
        tax_rate_key(rate): (-net, -tax)
        for rate, net, tax in CreditNoteLine.objects.filter(
            credit_note__invoice_id=invoice.pk, invoice_line__isnull=True
        )
        .values_list("tax_rate")
        .annotate(MoneySum("net"), MoneySum("tax"))
        .order_by()
    }
    rates: dict[Decimal, list[Decimal]] = {}
    for line in lines:
        sums = rates.setdefault(tax_rate_key(line.tax_rate), [ZERO] * 4)
        for index, value in enumerate((line.net, line.tax, line.credited_net, line.credited_tax)):
            sums[index] += value
    return Creditable(
        invoice=invoice,
        lines=lines,
        rates={
            rate: CreditableRate(
                rate=rate,
                net=net,
                tax=tax,
                credited_net=credited_net + amounts.get(rate, (ZERO, ZERO))[0],
                credited_tax=credited_tax + amounts.get(rate, (ZERO, ZERO))[1],
                amount_credited_net=amounts.get(rate, (ZERO, ZERO))[0],
            )
            for rate, (net, tax, credited_net, credited_tax) in sorted(rates.items())
        },
    )


# --- What a confirmation page computed from -------------------------------------------------

# The figures of an invoice and of the note to issue that confirmation pages show, in the
# order a change is reported, with the words that report it.
FIGURE_LABELS = {
    "state": _lazy("state"),
    "total": _lazy("total"),
    "paid": _lazy("paid"),
    "credited": _lazy("credited before"),
    "due": _lazy("due"),
    "credit": _lazy("credited by this note"),
    "off_due": _lazy("off the amount due"),
    "account_credit": _lazy("account credit"),
    "refund": _lazy("refund"),
    "settled_outside": _lazy("settled outside"),
    "cancels": _lazy("cancels the invoice"),
    "lines": _lazy("the lines credited"),
}
_AMOUNT_FIGURES = {
    "total",
    "paid",
    "credited",
    "due",
    "credit",
    "off_due",
    "account_credit",
    "refund",
    "settled_outside",
}


def amount_figure(value: Money | Decimal) -> str:
    """An amount as figures hold it: plain digits with two decimals."""
    amount = value.amount if isinstance(value, Money) else value
    return str(Decimal(amount).quantize(CENT))


def invoice_figures(*, invoice: Invoice) -> dict[str, str]:
    """What every confirmation page about ``invoice`` computes from: its state, total, paid,
    credited and due amounts, as strings (a page carries them and gives them back).

    Issuing compares them, read again under the invoice's lock, with the page's: a payment or
    a credit note in between changes what a note would take off the amount due, refund or
    leave as account credit, so the page no longer shows what would be issued.
    """
    return {
        "currency": invoice.currency,
        "state": invoice.state,
        "total": amount_figure(invoice.total),
        "paid": amount_figure(invoice.amount_paid),
        "credited": amount_figure(invoice.amount_credited),
        "due": amount_figure(invoice.amount_due),
    }


def invoices_figures(*, invoice_ids) -> dict[int, dict[str, str]]:
    """``invoice_figures`` of many invoices by id, in one query, without locks: for a
    confirmation page and for checking, before acting, that a selection still is as shown."""
    amounts = ("total", "amount_paid", "amount_credited")
    invoices = Invoice.objects.filter(pk__in=list(invoice_ids)).only(
        "pk", "currency", "state", *amounts, *(f"{name}_currency" for name in amounts)
    )
    return {invoice.pk: invoice_figures(invoice=invoice) for invoice in invoices}


def invoices_digest(*, invoice_ids=None, figures: dict | None = None) -> str:
    """One digest of the ``invoice_figures`` of a whole selection (by id, or as read
    already): what a confirmation page too large to carry each invoice's figures carries."""
    if figures is None:
        figures = invoices_figures(invoice_ids=invoice_ids)
    rows = sorted((int(pk), row) for pk, row in figures.items())
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def figures_changes(*, shown: dict, now: dict) -> list[str]:
    """What differs between the figures a page showed and those of now, one phrase per
    figure ("paid €0.00 → €60.50"), in the order of ``FIGURE_LABELS``."""
    currency = now.get("currency") or shown.get("currency")
    changes = []
    for key, label in FIGURE_LABELS.items():
        before, after = shown.get(key), now.get(key)
        if before == after:
            continue
        if key == "lines":
            changes.append(str(label))
            continue
        changes.append(
            _("%(figure)s %(before)s → %(after)s")
            % {
                "figure": label,
                "before": _figure_text(key, before, currency),
                "after": _figure_text(key, after, currency),
            }
        )
    if not changes and shown != now:
        changes.append(_("the currency"))
    return changes


def _figure_text(key: str, value, currency) -> str:
    if value is None:
        return "—"
    if key in _AMOUNT_FIGURES and currency:
        try:
            return format_money(Decimal(value), currency)
        except ArithmeticError:
            return str(value)
    if key == "state" and value in Invoice.State.values:
        return str(Invoice.State(value).label).lower()
    if key == "cancels":
        return _("yes") if value == "yes" else _("no")
    return str(value)


@dataclass(frozen=True)
class CancellationPreview:
    """What cancelling a selection would do; amounts per currency, never mixed."""

    to_cancel: list[Invoice]  # the first ``limit`` of them, with their customer
    to_cancel_count: int
    skipped: list[tuple[Invoice, str]]  # (invoice, reason), the first ``limit`` of them
    skipped_count: int
    totals: list[Money] = field(default_factory=list)  # to be credited, one per currency
    paid: list[Money] = field(default_factory=list)  # paid so far, per currency
    paid_count: int = 0
    to_account_credit: list[Money] = field(default_factory=list)  # per currency


def invoice_cancellation_preview(
    *, invoices: QuerySet[Invoice], limit: int = 500
) -> CancellationPreview:
    """Split a selection into invoices to cancel and invoices to skip (with the reason).

    Cancelling credits each invoice's remainder (total − what earlier credit notes credited,
    ``remainder`` on each listed invoice); of it, what is still due is written off and the
    rest, ``to_account_credit`` (the paid amount, up to the remainder), stays as account
    credit: nothing is refunded. The remainders, paid amounts and account credit are summed
    per currency in the database, over the whole selection even when the lists are cut at
    ``limit``. A constant number of queries.
    """
    remainder = exact_money(F("total") - F("amount_credited"))
    selection = Invoice.objects.filter(pk__in=invoices.order_by().values("pk")).annotate(
        remainder=remainder, to_account_credit=Least(F("amount_paid"), remainder)
    )
    cancellable = selection.filter(state__in=CANCELLABLE_STATES)
    skippable = selection.exclude(state__in=CANCELLABLE_STATES)
    sums = (
        cancellable.order_by("currency")
        .values("currency")
        .annotate(
            n=Count("id"),
            total_sum=MoneySum("remainder"),
            paid_sum=MoneySum("amount_paid"),
            credit_sum=MoneySum("to_account_credit"),
            n_paid=Count("id", filter=Q(amount_paid__gt=0)),
        )
    )
    sums = list(sums)
    to_cancel = list(
        cancellable.select_related("customer", "location").order_by("number", "pk")[:limit]
    )
    skipped = list(skippable.select_related("customer").order_by("state", "number", "pk")[:limit])
    return CancellationPreview(
        to_cancel=to_cancel,
        to_cancel_count=sum(row["n"] for row in sums),
        skipped=[
            (invoice, str(cancel_refusal(invoice=invoice).skip_reason)) for invoice in skipped
        ],
        skipped_count=skippable.count() if len(skipped) == limit else len(skipped),
        totals=[Money(row["total_sum"], row["currency"]) for row in sums],
        paid=[Money(row["paid_sum"], row["currency"]) for row in sums if row["n_paid"]],
        paid_count=sum(row["n_paid"] for row in sums),
        to_account_credit=[
            Money(row["credit_sum"], row["currency"]) for row in sums if row["n_paid"]
        ],
    )


@dataclass(frozen=True)
class BulkProgress:
    total: int
    done: int
    cancelled: int
    skipped: int
    failed: int

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100


def bulk_cancellation_progress(*, bulk: BulkCancellation) -> BulkProgress:
    """Counts of processed items per outcome, from the database (one query)."""
    Outcome = BulkCancellationItem.Outcome
    counts = BulkCancellationItem.objects.filter(bulk=bulk).aggregate(
        done=Count("id", filter=~Q(outcome=Outcome.PENDING)),
        cancelled=Count("id", filter=Q(outcome=Outcome.CANCELLED)),
        skipped=Count("id", filter=Q(outcome=Outcome.SKIPPED)),
        failed=Count("id", filter=Q(outcome=Outcome.FAILED)),
    )
    return BulkProgress(total=bulk.total, **counts)


@dataclass(frozen=True)
class BulkOutcomes:
    """What a bulk cancellation did, per outcome: how many were cancelled, how many were
    skipped for each reason, and which failed with their reasons (the first ``limit``)."""

    cancelled: int
    skipped: list[tuple[str, int]]  # (reason, count), the most frequent first
    failed_count: int
    failed: list[tuple[str, str]]  # (invoice, reason)


def bulk_cancellation_outcomes(*, bulk: BulkCancellation, limit: int = 20) -> BulkOutcomes:
    """The outcomes of ``bulk``'s processed items, grouped for a summary (two queries)."""
    Outcome = BulkCancellationItem.Outcome
    groups = (
        BulkCancellationItem.objects.filter(bulk=bulk)
        .exclude(outcome=Outcome.PENDING)
        .values_list("outcome", "message")
        .annotate(n=Count("id"))
        .order_by("-n", "message")
    )
    counts: dict[str, int] = {}
    skipped = []
    for outcome, message, n in groups:
        counts[outcome] = counts.get(outcome, 0) + n
        if outcome == Outcome.SKIPPED:
            skipped.append((message, n))
    failed = [
        (str(item.invoice), item.message)
        for item in BulkCancellationItem.objects.filter(bulk=bulk, outcome=Outcome.FAILED)
        .select_related("invoice")
        .order_by("pk")[:limit]
    ]
    return BulkOutcomes(
        cancelled=counts.get(Outcome.CANCELLED, 0),
        skipped=skipped,
        failed_count=counts.get(Outcome.FAILED, 0),
        failed=failed,
    )


def bulk_cancellation_stalled(*, bulk: BulkCancellation) -> bool:
    """Whether an unfinished bulk cancellation has not moved for
    ``BULK_CANCELLATION_REQUEUE_AFTER`` seconds (no worker took it, or its worker died): only
    then is queueing it again worth offering."""
    if bulk.status == BulkCancellation.Status.DONE:
        return False
    last_processed = BulkCancellationItem.objects.filter(bulk=bulk).aggregate(
        last=Max("processed_at")
    )["last"]
    last_move = max(t for t in (bulk.created_at, bulk.started_at, last_processed) if t)
    quiet_for = timezone.now() - last_move
    return quiet_for.total_seconds() > settings.BULK_CANCELLATION_REQUEUE_AFTER


def bulk_cancellation_results(
    *, bulk: BulkCancellation, after: int = 0
) -> QuerySet[BulkCancellationItem]:
    """Processed items with an id above ``after`` (a cursor for polling), in id order,
    with their invoice, customer and credit note joined."""
    return (
        BulkCancellationItem.objects.filter(bulk=bulk, pk__gt=after)
        .exclude(outcome=BulkCancellationItem.Outcome.PENDING)
        .select_related("invoice__customer", "credit_note")
        .order_by("pk")
    )
