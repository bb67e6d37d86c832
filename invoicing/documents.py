"""Invoice PDFs: render, store, record; sweep what is missing.

An issued invoice's PDF is rendered by a worker after the issue commits
(``invoicing.subscribers``, ``invoicing.tasks``), stored and recorded by
``coworking.documents.storage`` like a credit note's. It shows the invoice as issued
(``invoicing.pdf``), so it is rendered once: later payments or a cancellation never change
its bytes. Invoices whose PDF was never queued (broker down at issue time) or whose file was
lost are picked up by ``invoices_render_missing`` (Celery beat, every minute).
"""

import datetime

from django.http import FileResponse

from coworking.documents.downloads import document_pdf_response
from coworking.documents.storage import (
    PDF_SWEEP_BATCH,
    RenderReport,
    document_pdf_failed,
    document_render_pdf,
    documents_missing_pdf,
    documents_render_pdfs,
)
from coworking.queue import enqueue
from invoicing.models import Invoice


def invoice_render_pdf(*, invoice: Invoice | int, force: bool = False) -> Invoice:
    """Render, store and record the PDF of an issued invoice; return the invoice as stored.

    Idempotent (a ``ready`` PDF is left alone unless ``force``) and reproducible (a forced
    re-render records the same file and SHA-256). Raises ``Invoice.DoesNotExist``,
    ``InvoiceIsDraft`` for a draft, ``PdfRenderError`` and whatever the storage raises; the
    invoice is then unchanged (callers record the failure with ``invoice_pdf_failed``).
    """
    from invoicing import pdf

    return document_render_pdf(
        model=Invoice,
        document=invoice,
        render=lambda issued: pdf.invoice_pdf_bytes(invoice=issued),
        force=force,
    )


def invoice_pdf_failed(*, invoice: Invoice | int, error: str, final: bool) -> None:
    """Record a failed render attempt: its reason always, status ``failed`` when ``final``
    (a ``ready`` PDF is kept)."""
    document_pdf_failed(model=Invoice, document=invoice, error=error, final=final)


def queue_invoice_pdf(*, invoice_id: int) -> None:
    """Hand the PDF to the task queue; if the broker is down the sweep renders it."""
    from invoicing.tasks import render_invoice_pdf

    enqueue(render_invoice_pdf, invoice_id, if_down="The sweep will render it.")


def invoice_pdf_response(*, invoice: Invoice) -> FileResponse:
    """The stored PDF as an attachment; callers check who may see the invoice first (and
    refuse drafts). Raises ``PdfNotReady`` (409) until it is rendered, ``PdfUnavailable``
    (503) when its file was lost (a new render is queued)."""
    return document_pdf_response(
        document=invoice, queue_render=lambda pk: queue_invoice_pdf(invoice_id=pk)
    )


def invoices_missing_pdf(*, older_than: datetime.timedelta | None = None):
    """Issued invoices whose PDF is still ``pending`` ``older_than`` after their issue
    (default: ``DOCUMENT_PDF_SWEEP_AFTER`` seconds), oldest first; failed ones wait for a
    person."""
    return documents_missing_pdf(
        queryset=Invoice.objects.exclude(state=Invoice.State.DRAFT), older_than=older_than
    )


def invoices_render_pdfs(*, invoices, force: bool = False) -> RenderReport:
    """Render the PDF of each invoice in turn; a failure is recorded on its invoice
    (``failed``, with the reason) and does not stop the others."""
    return documents_render_pdfs(
        documents=invoices,
        render_one=lambda pk: invoice_render_pdf(invoice=pk, force=force),
        record_failure=lambda pk, reason: invoice_pdf_failed(invoice=pk, error=reason, final=True),
    )


def invoices_render_missing(
    *, older_than: datetime.timedelta | None = None, limit: int = PDF_SWEEP_BATCH
) -> RenderReport:
    """The sweep: render the PDFs still ``pending`` a minute after their invoice was issued,
    at most ``limit`` per run, oldest first (the next run takes the rest)."""
    return invoices_render_pdfs(invoices=list(invoices_missing_pdf(older_than=older_than)[:limit]))
