"""Celery tasks of invoices, treated as an API: they take ids and call services.

- ``render_invoice_pdf`` is queued after an invoice is issued; a failed render is retried
  with backoff, then the invoice's PDF is marked ``failed`` with the reason
  (``coworking.documents.tasks``). A run for a ready PDF does nothing.
- ``render_missing_pdfs`` runs every minute (``CELERY_BEAT_SCHEDULE``) and renders what was
  never queued (broker down at issue time) or lost.
- ``warn_failed_pdfs`` (hourly) logs a warning while invoice PDFs that failed for good wait
  for a person (the admin action "Render PDF again").
"""

from invoicing.documents import INVOICE_DOCUMENT

render_invoice_pdf, render_missing_pdfs, warn_failed_pdfs = INVOICE_DOCUMENT.tasks()
