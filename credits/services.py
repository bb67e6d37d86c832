"""The cancel operation: the only code path that cancels an invoice.

``invoice_cancel`` runs in one transaction: lock the invoice, re-check its state, freeze it
as cancelled, take the next credit-note number of its location (as late as possible, so the
per-location counter row is held briefly), write the credit note and its mirrored lines,
credit the customer's ledger and record the audit event. The PDF is queued only after
commit. It runs a constant number of SQL queries whatever the number of lines.

Cancelling many invoices (the admin's bulk action and background bulk cancellations) calls
it once per invoice, each in its own transaction. PDFs and e-mails are in
``credits.documents``.
"""

import datetime
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coworking.celery import enqueue
from coworking.einvoice import parties
from coworking.errors import ApplicationError
from coworking.events import EventType, announce
from coworking.models import LedgerEntry
from coworking.money import round_amount
from coworking.numbering import DocumentType, format_number, next_number
from coworking.services import ledger_post
from credits.errors import InvalidCancellation
from credits.models import (
    BulkCancellation,
    BulkCancellationItem,
    CancellationEvent,
    CreditNote,
    CreditNoteLine,
)
from credits.policies import cancel_refusal, may_cancel
from invoicing.models import Channel, Invoice, InvoiceLine
from invoicing.services import invoice_lock

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 1000


_CANCELLATION_FIELDS = [
    "state",
    "cancelled_at",
    "cancelled_by",
    "cancellation_channel",
    "cancellation_reason",
]


def _clean_request(*, reason: str | None, channel: str) -> str:
    """The reason, stripped; raises ``InvalidCancellation`` for an unknown channel or a
    reason longer than ``REASON_MAX_LENGTH``."""
    if channel not in Channel.values:
        raise InvalidCancellation(_("Unknown channel: %(channel)s.") % {"channel": channel})
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidCancellation(
            _("The reason is too long (%(length)s characters; at most %(max)s).")
            % {"length": len(reason), "max": REASON_MAX_LENGTH}
        )
    return reason


def invoice_cancel(
    *,
    invoice: Invoice | int,
    actor: AbstractBaseUser | None,
    reason: str = "",
    channel: str,
) -> CreditNote:
    """Cancel an issued, partially paid or paid invoice; return its new credit note.

    The credit note is always for the full total; what had been paid stays as account
    credit on the customer's ledger (this is not a refund). Who may cancel is checked here,
    on the locked invoice (``credits.policies.may_cancel``: ``actor`` through ``channel``;
    no actor is the system itself). Calling it again for the same invoice, at the same time
    or later, raises ``InvoiceAlreadyCancelled`` and writes nothing. Raises
    ``InvoiceNotFound``, ``CancelNotAllowed``, ``InvoicePaid`` (members), ``InvoiceIsDraft``,
    ``InvoiceAlreadyCancelled`` or ``InvalidCancellation`` (bad reason or channel) with
    nothing written. Announces ``invoice.cancelled`` and ``credit_note.issued`` in its
    transaction (``credits.subscribers`` queues the PDF after commit).
    """
    reason = _clean_request(reason=reason, channel=channel)
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else invoice
    started = time.perf_counter()
    with transaction.atomic():
        invoice, credit_note = _cancel_locked(
            invoice_id=invoice_id, actor=actor, reason=reason, channel=channel
        )
        announce(type=EventType.INVOICE_CANCELLED, instance=invoice, actor=actor, channel=channel)
        announce(
            type=EventType.CREDIT_NOTE_ISSUED, instance=credit_note, actor=actor, channel=channel
        )
    logger.info(
        "Invoice %s cancelled by credit note %s.",
        invoice.number,
        credit_note.number,
        extra={
            "event": EventType.INVOICE_CANCELLED.value,
            "invoice": invoice.number,
            "credit_note": credit_note.number,
            "actor": actor.get_username() if actor else None,
            "channel": channel,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return credit_note


def _mirror_lines(*, invoice_id: int, credit_note_id: int) -> None:
    """Write the credit note's lines as the invoice's with the sign reversed, in one
    INSERT ... SELECT: the lines never travel to Python, whatever their number. (The ORM
    cannot say INSERT ... SELECT; the column names still come from the models.)"""
    line, mirror = InvoiceLine._meta, CreditNoteLine._meta
    same = [
        "position", "description", "unit_price", "unit_price_currency", "tax_rate",
        "vat_category", "vat_exemption_reason", "vat_exemption_reason_code",
        "period_start", "period_end",
    ]  # fmt: skip
    negated = ["quantity", "net", "tax"]
    currencies = ["net_currency", "tax_currency"]
    columns = [mirror.get_field("credit_note").column] + [
        mirror.get_field(name).column for name in same + negated + currencies
    ]
    selected = (
        ["%s"]
        + [line.get_field(name).column for name in same]
        + [f"-{line.get_field(name).column}" for name in negated]
        + [line.get_field(name).column for name in currencies]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {mirror.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(selected)} FROM {line.db_table} "
            f"WHERE {line.get_field('invoice').column} = %s",
            [credit_note_id, invoice_id],
        )


def _cancel_locked(*, invoice_id, actor, reason: str, channel: str) -> tuple[Invoice, CreditNote]:
    started_at = timezone.now()
    invoice = invoice_lock(invoice_id=invoice_id, related=("location", "customer"))
    may_cancel(actor=actor, channel=channel, invoice=invoice)
    refusal = cancel_refusal(invoice=invoice)
    if refusal is not None:
        raise refusal
    previous_state = invoice.state
    invoice.state = Invoice.State.CANCELLED
    invoice.cancelled_at = started_at
    invoice.cancelled_by = actor
    invoice.cancellation_channel = channel
    invoice.cancellation_reason = reason
    invoice.save(update_fields=_CANCELLATION_FIELDS)

    issue_date = timezone.localdate()
    sequence_number = next_number(
        location_id=invoice.location_id, document_type=DocumentType.CREDIT_NOTE
    )
    credit_note = CreditNote.objects.create(
        location=invoice.location,
        customer_id=invoice.customer_id,
        invoice=invoice,
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date,
        sequence_number=sequence_number,
        number=format_number(
            prefix=invoice.location.credit_note_prefix,
            year=issue_date.year,
            number=sequence_number,
        ),
        issue_date=issue_date,
        currency=invoice.currency,
        net_total=-invoice.net_total,
        tax_total=-invoice.tax_total,
        total=-invoice.total,
        reason=reason,
        created_by=actor,
        channel=channel,
        buyer_reference=invoice.buyer_reference,
        seller=parties.snapshot(parties.seller(invoice.location)),
        buyer=parties.snapshot(parties.buyer(invoice.customer)),
        vat_currency=invoice.vat_currency,
        vat_exchange_rate=invoice.vat_exchange_rate,
        tax_total_vat_currency=(
            None
            if invoice.vat_exchange_rate is None
            else -round_amount(invoice.tax_total.amount * invoice.vat_exchange_rate)
        ),
    )
    _mirror_lines(invoice_id=invoice.pk, credit_note_id=credit_note.pk)
    ledger_post(
        customer_id=invoice.customer_id,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=credit_note.total,
        description=_("Credit note %(credit_note)s cancelling %(invoice)s")
        % {"credit_note": credit_note.number, "invoice": invoice.number},
        invoice_id=invoice.pk,
        credit_note=credit_note,
    )
    CancellationEvent.objects.create(
        invoice=invoice,
        credit_note=credit_note,
        actor=actor,
        channel=channel,
        reason=reason,
        previous_state=previous_state,
        amount_paid=invoice.amount_paid,
        started_at=started_at,
    )
    return invoice, credit_note


# --- Cancelling many invoices (admin bulk action, background bulk cancellations) -------------


@dataclass(frozen=True)
class CancellationResult:
    """What happened to one invoice of a selection: cancelled, skipped or failed."""

    invoice_id: int
    invoice_label: str
    outcome: str  # a BulkCancellationItem.Outcome value
    credit_note: CreditNote | None = None
    message: str = ""


def _cancel_one(
    *, invoice_id: int, invoice_label: str, actor, reason: str, channel: str
) -> CancellationResult:
    """Cancel one invoice in its own transaction (a savepoint when called inside one).

    Never raises for a refusal or a database failure: it becomes the result, so that one
    invoice cannot undo or stop the others.
    """
    Outcome = BulkCancellationItem.Outcome
    try:
        credit_note = invoice_cancel(
            invoice=invoice_id, actor=actor, reason=reason, channel=channel
        )
    except ApplicationError as error:
        if error.skip_reason:
            return CancellationResult(
                invoice_id, invoice_label, Outcome.SKIPPED, message=str(error.skip_reason)
            )
        return CancellationResult(invoice_id, invoice_label, Outcome.FAILED, message=error.message)
    except Exception:
        # A bug or a database refusal: log it with its traceback, report it, carry on.
        logger.exception("Cancelling invoice id %s failed.", invoice_id)
        return CancellationResult(
            invoice_id,
            invoice_label,
            Outcome.FAILED,
            message=_("unexpected error; it has been logged"),
        )
    return CancellationResult(invoice_id, invoice_label, Outcome.CANCELLED, credit_note=credit_note)


def invoices_cancel_each(
    *, invoice_ids: Sequence[int], actor, reason: str = "", channel: str
) -> list[CancellationResult]:
    """Cancel each invoice through ``invoice_cancel``, each in its own transaction.

    One refusal or failure does not undo or stop the others. Returns one result per id,
    in id order: ``cancelled`` (with its credit note), ``skipped`` (draft, already
    cancelled, e.g. a double submit, or gone) or ``failed`` (with the reason). Raises
    ``InvalidCancellation`` before touching anything when the reason is not valid. Called
    inside a transaction, each invoice gets a savepoint instead, and the caller's commit
    decides for all of them.
    """
    reason = _clean_request(reason=reason, channel=channel)
    ids = sorted(set(invoice_ids))
    labels = {invoice.pk: str(invoice) for invoice in Invoice.objects.filter(pk__in=ids)}
    return [
        _cancel_one(
            invoice_id=invoice_id,
            invoice_label=labels.get(invoice_id, f"#{invoice_id}"),
            actor=actor,
            reason=reason,
            channel=channel,
        )
        for invoice_id in ids
    ]


def bulk_cancellation_start(
    *, invoice_ids: Sequence[int], actor, reason: str = "", channel: str = Channel.ADMIN_BULK
) -> BulkCancellation:
    """Record a bulk cancellation (one pending item per existing invoice) and queue its task.

    The task is queued after commit; if the broker is down the record stays ``queued``
    and can be queued again (running it twice is safe, see ``bulk_cancellation_run``).
    Raises ``InvalidCancellation`` (bad reason or channel, nothing selected) with nothing
    written.
    """
    reason = _clean_request(reason=reason, channel=channel)
    ids = list(
        Invoice.objects.filter(pk__in=set(invoice_ids)).order_by("pk").values_list("pk", flat=True)
    )
    if not ids:
        raise InvalidCancellation(_("No invoices were selected."))
    with transaction.atomic():
        bulk = BulkCancellation.objects.create(
            created_by=actor, reason=reason, channel=channel, total=len(ids)
        )
        BulkCancellationItem.objects.bulk_create(
            [BulkCancellationItem(bulk=bulk, invoice_id=invoice_id) for invoice_id in ids],
            batch_size=1000,
        )
        transaction.on_commit(lambda: queue_bulk_cancellation(bulk_id=bulk.pk), robust=True)
    return bulk


def queue_bulk_cancellation(*, bulk_id: int) -> bool:
    """Hand a bulk cancellation to the task queue; ``False`` (and a log line) if the broker
    is down, leaving it ``queued``."""
    from credits.tasks import run_bulk_cancellation

    return enqueue(
        run_bulk_cancellation, bulk_id, if_down="Beat's requeue_bulk_cancellations retries it."
    )


def bulk_cancellations_requeue() -> list[int]:
    """Queue again every bulk cancellation still ``queued`` a while
    (``BULK_CANCELLATION_REQUEUE_AFTER`` seconds) after it was started: its task never
    reached the broker, or was lost. Returns the ids queued. A task still waiting behind
    others may be queued twice; running a bulk twice is safe (``bulk_cancellation_run``).
    """
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.BULK_CANCELLATION_REQUEUE_AFTER)
    stale = BulkCancellation.objects.filter(
        status=BulkCancellation.Status.QUEUED, created_at__lt=cutoff
    ).order_by("pk")
    return [
        bulk_id
        for bulk_id in stale.values_list("pk", flat=True)
        if queue_bulk_cancellation(bulk_id=bulk_id)
    ]


class _BulkProgress:
    """The log lines of one runner's share of a bulk cancellation: when it starts, every
    ``EVERY`` invoices, and when it ends (counts per outcome, duration)."""

    EVERY = 100

    def __init__(self, bulk: BulkCancellation):
        self.bulk, self.started = bulk, time.perf_counter()
        Outcome = BulkCancellationItem.Outcome
        self.counts = dict.fromkeys([Outcome.CANCELLED, Outcome.SKIPPED, Outcome.FAILED], 0)
        self._log("started", "Bulk cancellation %s started (%s invoices).", bulk.pk, bulk.total)

    def processed(self, outcome: str) -> None:
        self.counts[outcome] += 1
        done = sum(self.counts.values())
        if done % self.EVERY == 0:
            message = "Bulk cancellation %s: %s of %s invoices processed."
            self._log("progress", message, self.bulk.pk, done, self.bulk.total)

    def finished(self) -> None:
        message = "Bulk cancellation %s: runner done (%s cancelled, %s skipped, %s failed)."
        self._log("finished", message, self.bulk.pk, *self.counts.values())

    def _log(self, stage: str, message: str, *args) -> None:
        created_by = self.bulk.created_by
        logger.info(
            message,
            *args,
            extra={
                "event": f"bulk_cancellation.{stage}",
                "bulk_cancellation": self.bulk.pk,
                "total": self.bulk.total,
                **{str(outcome): count for outcome, count in self.counts.items()},
                "actor": created_by.get_username() if created_by else None,
                "channel": self.bulk.channel,
                "duration_ms": round((time.perf_counter() - self.started) * 1000, 1),
            },
        )


def bulk_cancellation_run(*, bulk_id: int) -> BulkCancellation:
    """Work through the pending items of a bulk cancellation; return it, refreshed.

    Each item is claimed (``FOR UPDATE SKIP LOCKED``) and its invoice cancelled through
    ``invoice_cancel`` in one transaction together with the item's outcome, so a crash
    never leaves an invoice cancelled with its item still pending, and two runners (a
    redelivered task) share the work instead of doing it twice. Items run in id order.
    The bulk is marked ``done`` by whichever runner finds no pending item left. Raises
    ``BulkCancellation.DoesNotExist`` for an unknown id.
    """
    Outcome = BulkCancellationItem.Outcome
    bulk = BulkCancellation.objects.select_related("created_by").get(pk=bulk_id)
    BulkCancellation.objects.filter(pk=bulk_id, status=BulkCancellation.Status.QUEUED).update(
        status=BulkCancellation.Status.RUNNING, started_at=timezone.now()
    )
    pending = BulkCancellationItem.objects.filter(bulk_id=bulk_id, outcome=Outcome.PENDING)
    progress = _BulkProgress(bulk)
    while True:
        with transaction.atomic():
            item = (
                pending.select_for_update(of=("self",), skip_locked=True)
                .select_related("invoice")
                .order_by("pk")
                .first()
            )
            if item is None:
                break
            result = _cancel_one(
                invoice_id=item.invoice_id,
                invoice_label=str(item.invoice),
                actor=bulk.created_by,
                reason=bulk.reason,
                channel=bulk.channel,
            )
            item.outcome = result.outcome
            item.credit_note = result.credit_note
            item.message = result.message
            item.processed_at = timezone.now()
            item.save(update_fields=["outcome", "credit_note", "message", "processed_at"])
        progress.processed(result.outcome)
    progress.finished()
    if not pending.exists():
        BulkCancellation.objects.filter(pk=bulk_id).exclude(
            status=BulkCancellation.Status.DONE
        ).update(status=BulkCancellation.Status.DONE, finished_at=timezone.now())
    bulk.refresh_from_db()
    return bulk
