"""The credit note's PDF: its context and template, rendered by ``coworking.documents``.

It shares the invoice's layout (``invoicing.pdf.document_pdf_bytes``, a Factur-X carrying the
note's CII) and adds the invoice it cancels; the reason recorded at cancel is internal and not
printed. Nothing here writes to the database or to storage: ``credits.documents`` stores the
bytes.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext_lazy

from coworking.documents.rendering import Formatter
from credits.einvoice import credit_note_document
from credits.models import CreditNote
from invoicing.pdf import document_pdf_bytes


def cancels_in_full(credit_note: CreditNote) -> bool:
    """A note for the whole invoice cancels it; any other (a part, or what earlier notes
    left) corrects it, and shows only the lines it credits."""
    return credit_note.total == -credit_note.invoice.total


def credit_note_title(*, full: bool):
    """The document's title, lazily translated: a "Credit note" in English and Dutch
    ("Creditnota"), an "Avoir" in French; German names a correction "Rechnungskorrektur" and a
    full cancellation "Stornorechnung" (a "Gutschrift" would be self-billing)."""
    return pgettext_lazy("full cancellation", "Credit note") if full else _lazy("Credit note")


def credit_note_pdf_bytes(*, credit_note: CreditNote, lines=None, preview=False) -> bytes:
    """The PDF of ``credit_note`` as bytes; nothing is stored. Same note → same bytes.

    With ``preview``, ``credit_note`` is an unsaved note (``credits.services.
    credit_note_preview``) with its ``lines``: the same document, without a number and
    marked as a preview, not issued. Raises ``PdfRenderError`` when it cannot be rendered.
    """

    full = cancels_in_full(credit_note)

    def extra_context(fmt: Formatter) -> dict:
        reference = (
            _("Cancels invoice %(number)s of %(date)s")
            if full
            else _("Corrects invoice %(number)s of %(date)s")
        )
        cancels = reference % {
            "number": credit_note.invoice_number,
            "date": fmt.date(credit_note.invoice_issue_date),
        }
        # The reason recorded at cancel is internal (staff notes): the customer reads the
        # reference to the invoice, and the credit sentence only when something was paid.
        paid = credit_note.invoice.amount_paid.amount > 0
        return {"cancels": cancels, "full": full, "paid": paid, "preview": preview}

    return document_pdf_bytes(
        document=credit_note,
        title=credit_note_title(full=full),
        template="documents/credit_note.html",
        values=credit_note_document(credit_note=credit_note, lines=lines),
        extra_context=extra_context,
        lines=lines,
        facturx=not preview,
    )
