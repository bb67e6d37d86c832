"""Celery tasks of invoices, treated as an API: they take ids and call services.

- ``render_invoice_pdf`` is queued after an invoice is issued; a failed render is retried
  with backoff, then the invoice's PDF is marked ``failed`` with the reason
  (``coworking.documents.tasks``). A run for a ready PDF does nothing.
- ``render_missing_pdfs`` runs every minute (``CELERY_BEAT_SCHEDULE``) and renders what was
  never queued (broker down at issue time) or lost.
- ``warn_failed_pdfs`` (hourly) logs a warning while invoice PDFs that failed for good wait
  for a person (the admin action "Render PDF again").
"""

import logging

from celery import shared_task

from coworking.documents.tasks import run_render_task, run_sweep, warn_failed
from invoicing import documents
from invoicing.selectors import invoices_with_failed_pdf

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="invoicing.render_invoice_pdf",
    max_retries=None,
    acks_late=True,
    reject_on_worker_lost=False,
)
def render_invoice_pdf(self, invoice_id: int, force: bool = False) -> str | None:
    """Render and store the PDF of one invoice; retried, then ``failed`` with the reason."""
    return run_render_task(
        self,
        event="invoice",
        document_id=invoice_id,
        render=lambda: documents.invoice_render_pdf(invoice=invoice_id, force=force),
        record_failure=lambda reason, final: documents.invoice_pdf_failed(
            invoice=invoice_id, error=reason, final=final
        ),
        describe=lambda invoice: {"invoice": invoice.number},
        log=logger,
    )


@shared_task(name="invoicing.render_missing_pdfs")
def render_missing_pdfs() -> dict:
    """The sweep: render every PDF still pending a minute after its invoice was issued."""
    return run_sweep(documents.invoices_render_missing, kind="invoice", log=logger)


@shared_task(name="invoicing.warn_failed_pdfs")
def warn_failed_pdfs() -> int:
    """Warn while invoice PDFs that failed for good wait for a person."""
    return warn_failed(invoices_with_failed_pdf(), event="invoice", kind="invoice", log=logger)
