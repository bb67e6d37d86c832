"""Celery tasks of invoices, treated as an API: they take ids and call services.

- ``render_invoice_pdf`` is queued after an invoice is issued; a failed render is retried
  with backoff, then the invoice's PDF is marked ``failed`` with the reason
  (``coworking.documents.tasks``). A run for a ready PDF does nothing.
- ``render_missing_pdfs`` runs every minute (``CELERY_BEAT_SCHEDULE``) and renders what was
  never queued (broker down at issue time) or lost.
- ``warn_failed_pdfs`` (hourly) logs a warning while invoice PDFs that failed for good wait
  for a person (the admin action "Render PDF again").
- ``prepare_statement`` renders and stores a customer statement too long for a request
  (``invoicing.services.statements``); queued when it is asked for.
- ``purge_prepared_statements`` (daily) deletes prepared statements older than
  ``PREPARED_STATEMENTS_KEPT_DAYS`` with their files.
"""

import datetime
import logging

from celery import shared_task
from django.conf import settings

from invoicing.documents import INVOICE_DOCUMENT
from invoicing.prepared_statements import PreparedStatement
from invoicing.services.statements import prepared_statements_purge, statement_prepare

logger = logging.getLogger(__name__)

render_invoice_pdf, render_missing_pdfs, warn_failed_pdfs = INVOICE_DOCUMENT.tasks()


@shared_task(name="invoicing.prepare_statement", acks_late=True, reject_on_worker_lost=True)
def prepare_statement(statement_id: int) -> str:
    """Render and store a statement recorded by ``statement_request``; safe to run twice."""
    try:
        statement = statement_prepare(statement_id=statement_id)
    except PreparedStatement.DoesNotExist:
        logger.warning("Statement %s does not exist; nothing to prepare.", statement_id)
        return ""
    logger.info("Statement %s: %s.", statement_id, statement.status)
    return statement.status


@shared_task(name="invoicing.purge_prepared_statements")
def purge_prepared_statements() -> int:
    return prepared_statements_purge(
        older_than=datetime.timedelta(days=settings.PREPARED_STATEMENTS_KEPT_DAYS)
    )
