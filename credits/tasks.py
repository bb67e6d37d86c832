"""Celery tasks of credit notes, treated as an API: they take ids and call services."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="credits.render_credit_note_pdf")
def render_credit_note_pdf(credit_note_id: int) -> None:
    """Seam for the PDF rendering (filled in by the PDF work); the note stays ``pending``."""
    logger.info("PDF rendering for credit note %s is not wired yet.", credit_note_id)


@shared_task(name="credits.run_bulk_cancellation", acks_late=True)
def run_bulk_cancellation(bulk_id: int) -> None:
    """Run a bulk cancellation recorded by ``bulk_cancellation_start``; safe to run twice."""
    from credits.models import BulkCancellation
    from credits.services import bulk_cancellation_run

    try:
        bulk = bulk_cancellation_run(bulk_id=bulk_id)
    except BulkCancellation.DoesNotExist:
        logger.warning("Bulk cancellation %s does not exist; nothing to do.", bulk_id)
        return
    logger.info("Bulk cancellation %s: %s.", bulk_id, bulk.status)
