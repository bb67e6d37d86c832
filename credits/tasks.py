"""Celery tasks of credit notes, treated as an API: they take ids and call services."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="credits.render_credit_note_pdf")
def render_credit_note_pdf(credit_note_id: int) -> None:
    """Seam for the PDF rendering (filled in by the PDF work); the note stays ``pending``."""
    logger.info("PDF rendering for credit note %s is not wired yet.", credit_note_id)
