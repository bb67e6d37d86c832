"""Invoice PDFs: the kind declared once (``coworking.documents.kinds``).

An issued invoice's PDF is rendered by a worker after the issue commits, stored and recorded
like a credit note's. It shows the invoice as issued (``invoicing.pdf``), so it is rendered
once: later payments or a cancellation never change its bytes. Invoices whose PDF was never
queued (broker down at issue time) or whose file was lost are picked up by the sweep (Celery
beat, every minute); drafts have no PDF.
"""

import logging

from django.utils.translation import gettext as _

from coworking.documents.kinds import DocumentKind
from invoicing.errors import InvoiceIsDraft
from invoicing.models import Invoice


def _render(invoice: Invoice) -> bytes:
    from invoicing import pdf

    return pdf.invoice_pdf_bytes(invoice=invoice)


def _einvoice(invoice: Invoice, syntax: str) -> bytes:
    from invoicing.einvoice import invoice_einvoice

    return invoice_einvoice(invoice=invoice, syntax=syntax)


def _refuse_draft(invoice: Invoice) -> None:
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(_("A draft invoice has no PDF: issue it first."))


INVOICE_DOCUMENT = DocumentKind(
    model=Invoice,
    app="invoicing",
    event="invoice",
    render=_render,
    describe=lambda invoice: {"invoice": invoice.number},
    with_pdf=lambda invoices: invoices.exclude(state=Invoice.State.DRAFT),
    downloadable=_refuse_draft,
    einvoice=_einvoice,
    log=logging.getLogger("invoicing.tasks"),
)
