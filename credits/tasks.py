"""Celery tasks of credit notes, treated as an API: they take ids and call services.

- ``render_credit_note_pdf`` is queued after the cancel commits. A failed render is
  retried with exponential backoff (``DOCUMENT_PDF_RETRY_BACKOFF`` seconds, doubled each
  time, with jitter) up to ``DOCUMENT_PDF_MAX_RETRIES`` times; then the note is marked
  ``failed`` with the reason, which the admin shows. A run for a ready note does nothing.
- ``render_missing_pdfs`` runs every minute (``CELERY_BEAT_SCHEDULE``) and renders what was
  never queued (broker down at cancel time) or lost.
- ``send_credit_note_email`` sends the PDF to the customer once, when the location e-mails
  its documents; retried with backoff when the mail server fails.
- ``requeue_bulk_cancellations`` (every minute) queues again the bulk cancellations left
  ``queued`` (broker down when they started); ``warn_failed_pdfs`` (hourly) logs a warning
  while PDFs that failed for good wait for a person.
- ``reconcile`` checks the invariants: incrementally every night, in full every week (the
  schedules are settings).

Each render logs one structured line (``credit_note.pdf_ready`` or ``credit_note.pdf_failed``
with the credit note, its invoice, the attempt and the duration).
"""

import logging

from celery import shared_task
from django.conf import settings

from coworking.documents.tasks import retry_countdown
from credits import documents
from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.models import BulkCancellation, CreditNote
from credits.reconciliation import reconciliation_run
from credits.services.bulk import bulk_cancellation_run, bulk_cancellations_requeue

logger = logging.getLogger(__name__)

render_credit_note_pdf, render_missing_pdfs, warn_failed_pdfs = CREDIT_NOTE_DOCUMENT.tasks()


@shared_task(
    bind=True,
    name="credits.send_credit_note_email",
    max_retries=None,
    acks_late=True,
    reject_on_worker_lost=False,
)
def send_credit_note_email(self, credit_note_id: int) -> bool:
    """E-mail one credit note to its customer, once; retried when the mail server fails."""
    try:
        return documents.credit_note_send_email(credit_note=credit_note_id)
    except CreditNote.DoesNotExist:
        logger.warning("Credit note %s does not exist; nothing to e-mail.", credit_note_id)
        return False
    except Exception as error:
        attempt, max_retries = self.request.retries, settings.CREDIT_NOTE_EMAIL_MAX_RETRIES
        if attempt >= max_retries:
            logger.exception("E-mailing credit note %s failed; giving up.", credit_note_id)
            return False
        raise self.retry(
            exc=error, countdown=retry_countdown(attempt), max_retries=max_retries
        ) from error


@shared_task(name="credits.run_bulk_cancellation", acks_late=True, reject_on_worker_lost=True)
def run_bulk_cancellation(bulk_id: int) -> None:
    """Run a bulk cancellation recorded by ``bulk_cancellation_start``; safe to run twice."""
    try:
        bulk = bulk_cancellation_run(bulk_id=bulk_id)
    except BulkCancellation.DoesNotExist:
        logger.warning("Bulk cancellation %s does not exist; nothing to do.", bulk_id)
        return
    logger.info("Bulk cancellation %s: %s.", bulk_id, bulk.status)


@shared_task(name="credits.requeue_bulk_cancellations")
def requeue_bulk_cancellations() -> list[int]:
    """Queue again the bulk cancellations whose task never reached the broker."""
    requeued = bulk_cancellations_requeue()
    if requeued:
        logger.warning(
            "Queued again %s bulk cancellation(s) left queued: %s.",
            len(requeued),
            requeued,
            extra={"event": "bulk_cancellation.requeued", "bulk_cancellations": requeued},
        )
    return requeued


@shared_task(name="credits.reconcile")
def reconcile(incremental: bool = True) -> bool:
    """``reconcile`` from the beat (``RECONCILE_INCREMENTAL_SCHEDULE`` nightly,
    ``RECONCILE_FULL_SCHEDULE`` weekly): logs one error line per broken invariant, with its
    first breaches, for the operator's alerting; returns whether everything held."""
    run = reconciliation_run(incremental=incremental)
    for name, breaches in run.results.items():
        if breaches:
            logger.error(
                "reconcile.breach",
                extra={"invariant": name, "breaches": len(breaches), "first": breaches[:5]},
            )
    logger.info(
        "reconcile.done",
        extra={
            "incremental": incremental,
            "since": run.since and run.since.started_at,
            "clean": run.clean,
        },
    )
    return run.clean
