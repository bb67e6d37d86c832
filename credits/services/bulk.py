"""Cancelling many invoices: the admin's bulk action (``invoices_cancel_each``, each invoice
in its own transaction) and background bulk cancellations (recorded, queued, run by
workers that share the pending items and keep a heartbeat, queued again when they die).
"""

import datetime
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from coworking.errors import ApplicationError
from coworking.locking import lock_rows
from coworking.queue import enqueue
from credits.errors import InvalidCancellation
from credits.models import BulkCancellation, BulkCancellationItem, CreditNote
from credits.services.issue import invoice_cancel
from credits.services.requests import clean_request
from invoicing.models import Channel, Invoice

logger = logging.getLogger(__package__)


@dataclass(frozen=True)
class CancellationResult:
    """What happened to one invoice of a selection: cancelled, skipped, failed or (time ran
    out before its turn) still pending."""

    invoice_id: int
    invoice_label: str
    outcome: str  # a BulkCancellationItem.Outcome value
    credit_note: CreditNote | None = None
    message: str = ""
    code: str = ""  # the refusal's error code, if any


def _cancel_one(
    *,
    invoice_id: int,
    invoice_label: str,
    actor,
    reason: str,
    channel: str,
    as_shown: Mapping[str, str] | None = None,
) -> CancellationResult:
    """Cancel one invoice in its own transaction (a savepoint when called inside one).

    Never raises for a refusal or a database failure: it becomes the result, so that one
    invoice cannot undo or stop the others.
    """
    Outcome = BulkCancellationItem.Outcome
    try:
        credit_note = invoice_cancel(
            invoice=invoice_id, actor=actor, reason=reason, channel=channel, as_shown=as_shown
        )
    except ApplicationError as error:
        if error.skip_reason:
            return CancellationResult(
                invoice_id, invoice_label, Outcome.SKIPPED, message=str(error.skip_reason)
            )
        return CancellationResult(
            invoice_id, invoice_label, Outcome.FAILED, message=error.message, code=error.code
        )
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
    *,
    invoice_ids: Sequence[int],
    actor,
    reason: str = "",
    channel: str,
    time_budget: float | None = None,
    as_shown: Mapping[int, Mapping[str, str]] | None = None,
) -> list[CancellationResult]:
    """Cancel each invoice through ``invoice_cancel``, each in its own transaction.

    One refusal or failure does not undo or stop the others. Returns one result per id,
    in id order: ``cancelled`` (with its credit note), ``skipped`` (draft, already
    cancelled, e.g. a double submit, or gone), ``failed`` (with the reason) or, when
    ``time_budget`` seconds ran out before its turn, ``pending`` (not attempted, nothing
    written: select it again). The first invoice is always attempted. Raises
    ``InvalidCancellation`` before touching anything when the reason is not valid. Called
    inside a transaction, each invoice gets a savepoint instead, and the caller's commit
    decides for all of them.

    With ``as_shown`` (invoice id → the ``invoice_figures`` a confirmation page showed), an
    invoice whose figures changed since, or that the page did not list as one to cancel,
    fails with ``confirmation_outdated`` and is left as it is.
    """
    reason = clean_request(reason=reason, channel=channel)
    ids = sorted(set(invoice_ids))
    labels = {invoice.pk: str(invoice) for invoice in Invoice.objects.filter(pk__in=ids)}
    deadline = None if time_budget is None else time.monotonic() + time_budget
    results: list[CancellationResult] = []
    for invoice_id in ids:
        label = labels.get(invoice_id, f"#{invoice_id}")
        if results and deadline is not None and time.monotonic() >= deadline:
            message = _("not attempted: the time allowed for one request ran out")
            outcome = BulkCancellationItem.Outcome.PENDING
            results.append(CancellationResult(invoice_id, label, outcome, message=message))
            continue
        results.append(
            _cancel_one(
                invoice_id=invoice_id,
                invoice_label=label,
                actor=actor,
                reason=reason,
                channel=channel,
                as_shown=None if as_shown is None else as_shown.get(invoice_id, {}),
            )
        )
    return results


def bulk_cancellation_start(
    *,
    invoice_ids: Sequence[int],
    actor,
    reason: str = "",
    channel: str = Channel.ADMIN_BULK,
    as_shown: Mapping[int, Mapping[str, str]] | None = None,
) -> BulkCancellation:
    """Record a bulk cancellation (one pending item per existing invoice) and queue its task.

    With ``as_shown`` (invoice id → the ``invoice_figures`` its confirmation showed), each
    item keeps its invoice's figures and the run cancels it only if they still hold under the
    invoice's lock (else the item fails with ``confirmation_outdated``).

    The task is queued after commit; if the broker is down the record stays ``queued``
    and can be queued again (running it twice is safe, see ``bulk_cancellation_run``).
    Raises ``InvalidCancellation`` (bad reason or channel, nothing selected) with nothing
    written.
    """
    reason = clean_request(reason=reason, channel=channel)
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
            [
                BulkCancellationItem(
                    bulk=bulk,
                    invoice_id=invoice_id,
                    as_shown=None if as_shown is None else dict(as_shown.get(invoice_id, {})),
                )
                for invoice_id in ids
            ],
            batch_size=1000,
        )
        transaction.on_commit(lambda: queue_bulk_cancellation(bulk_id=bulk.pk), robust=True)
    return bulk


def queue_bulk_cancellation(*, bulk_id: int) -> bool:
    """Hand a bulk cancellation to the task queue; ``False`` (and a log line) if the broker
    is down, leaving it ``queued``."""
    return enqueue(
        "credits.run_bulk_cancellation",
        bulk_id,
        if_down="Beat's requeue_bulk_cancellations retries it.",
        long_running=True,
    )


def bulk_cancellations_requeue() -> list[int]:
    """Queue again the bulk cancellations a worker should be running and is not; return
    their ids.

    - still ``queued`` ``BULK_CANCELLATION_REQUEUE_AFTER`` seconds after they were started:
      the task never reached the broker, or was lost;
    - ``running`` with no heartbeat for ``BULK_CANCELLATION_STALE_AFTER`` seconds: the
      worker died mid-run (its message waits in the broker's unacknowledged set until the
      visibility timeout). The heartbeat is moved to now as the run is queued, so a run
      still waiting behind others is not queued again at every sweep.

    A run queued twice is safe: runners share the pending items (``bulk_cancellation_run``)
    and an invoice is never cancelled twice.
    """
    now = timezone.now()
    queued_before = now - datetime.timedelta(seconds=settings.BULK_CANCELLATION_REQUEUE_AFTER)
    silent_since = now - datetime.timedelta(seconds=settings.BULK_CANCELLATION_STALE_AFTER)
    Status = BulkCancellation.Status
    never_ran = BulkCancellation.objects.filter(status=Status.QUEUED, created_at__lt=queued_before)
    with transaction.atomic():
        stale = list(
            lock_rows(BulkCancellation.objects.filter(status=Status.RUNNING), skip_locked=True)
            .filter(
                Q(heartbeat_at__lt=silent_since)
                | Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
            )
            .values_list("pk", flat=True)
        )
        BulkCancellation.objects.filter(pk__in=stale).update(heartbeat_at=now)
    for bulk_id in stale:
        logger.warning(
            "Bulk cancellation %s: no heartbeat for %s s, its worker is gone; queued again.",
            bulk_id,
            settings.BULK_CANCELLATION_STALE_AFTER,
            extra={"event": "bulk_cancellation.stale", "bulk_cancellation": bulk_id},
        )
    ids = sorted({*never_ran.values_list("pk", flat=True), *stale})
    return [bulk_id for bulk_id in ids if queue_bulk_cancellation(bulk_id=bulk_id)]


class _BulkProgress:
    """The log lines of one runner's share of a bulk cancellation: when it starts, every
    ``EVERY`` invoices, and when it ends (counts per outcome, duration)."""

    EVERY = 100

    def __init__(self, bulk: BulkCancellation):
        self.bulk, self.started = bulk, time.perf_counter()
        Outcome = BulkCancellationItem.Outcome
        self.counts: dict[str, int] = dict.fromkeys(
            [Outcome.CANCELLED, Outcome.SKIPPED, Outcome.FAILED], 0
        )
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


class _Heartbeat:
    """A runner's sign of life on its bulk cancellation, written at most every
    ``EVERY`` seconds (in its own statement, outside the items' transactions)."""

    EVERY = 1.0

    def __init__(self, bulk_id: int):
        self.bulk_id, self.last = bulk_id, time.monotonic()

    def beat(self) -> None:
        if time.monotonic() - self.last >= self.EVERY:
            BulkCancellation.objects.filter(pk=self.bulk_id).update(heartbeat_at=timezone.now())
            self.last = time.monotonic()


def bulk_cancellation_run(*, bulk_id: int) -> BulkCancellation:
    """Work through the pending items of a bulk cancellation; return it, refreshed.

    Each item is claimed (``FOR UPDATE SKIP LOCKED``) and its invoice cancelled through
    ``invoice_cancel`` in one transaction together with the item's outcome, so a crash
    never leaves an invoice cancelled with its item still pending, and two runners (a
    redelivered task) share the work instead of doing it twice. Items run in id order. The
    run keeps a heartbeat (``heartbeat_at``) so that beat can queue it again when its worker
    dies (``bulk_cancellations_requeue``).
    The bulk is marked ``done`` by whichever runner finds no pending item left. Raises
    ``BulkCancellation.DoesNotExist`` for an unknown id.
    """
    Outcome = BulkCancellationItem.Outcome
    bulk = BulkCancellation.objects.select_related("created_by").get(pk=bulk_id)
    now = timezone.now()
    BulkCancellation.objects.filter(pk=bulk_id, status=BulkCancellation.Status.QUEUED).update(
        status=BulkCancellation.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    pending = BulkCancellationItem.objects.filter(bulk_id=bulk_id, outcome=Outcome.PENDING)
    progress = _BulkProgress(bulk)
    heartbeat = _Heartbeat(bulk_id)
    while True:
        heartbeat.beat()
        with transaction.atomic():
            item = (
                lock_rows(pending.select_related("invoice"), skip_locked=True)
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
                as_shown=item.as_shown,
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
