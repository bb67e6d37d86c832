"""Reads of credits: the credit notes a user may see, what cancelling a selection would do,
and how a bulk cancellation is going."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from djmoney.money import Money

from coworking.selectors import visible_to
from credits.models import BulkCancellation, BulkCancellationItem, CreditNote
from credits.policies import CANCELLABLE_STATES, cancel_refusal
from invoicing.models import Invoice


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


@dataclass(frozen=True)
class CancellationPreview:
    """What cancelling a selection would do; amounts per currency, never mixed."""

    to_cancel: list[Invoice]  # the first ``limit`` of them, with their customer
    to_cancel_count: int
    skipped: list[tuple[Invoice, str]]  # (invoice, reason), the first ``limit`` of them
    skipped_count: int
    totals: list[Money] = field(default_factory=list)  # to be credited, one per currency
    paid: list[Money] = field(default_factory=list)  # becomes account credit, per currency
    paid_count: int = 0


def invoice_cancellation_preview(
    *, invoices: QuerySet[Invoice], limit: int = 500
) -> CancellationPreview:
    """Split a selection into invoices to cancel and invoices to skip (with the reason).

    Totals to be credited and amounts already paid (which stay as account credit, they are
    not refunded) are summed per currency in the database, over the whole selection even
    when the lists are cut at ``limit``. A constant number of queries.
    """
    selection = Invoice.objects.filter(pk__in=invoices.order_by().values("pk"))
    cancellable = selection.filter(state__in=CANCELLABLE_STATES)
    skippable = selection.exclude(state__in=CANCELLABLE_STATES)
    sums = (
        cancellable.order_by("currency")
        .values("currency")
        .annotate(
            n=Count("id"),
            total_sum=Sum("total"),
            paid_sum=Sum("amount_paid"),
            n_paid=Count("id", filter=Q(amount_paid__gt=0)),
        )
    )
    sums = list(sums)
    to_cancel = list(cancellable.select_related("customer").order_by("number", "pk")[:limit])
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


def credit_notes_with_failed_pdf() -> QuerySet[CreditNote]:
    """Credit notes whose PDF failed for good (retries exhausted), oldest first."""
    return CreditNote.objects.filter(pdf_status=CreditNote.PdfStatus.FAILED).order_by("pk")
