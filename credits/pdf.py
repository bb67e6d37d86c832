"""The credit note's PDF: its context and template, rendered by ``coworking.documents``.

It shares the invoice's layout (``invoicing.pdf.document_pdf_bytes``, a Factur-X carrying the
note's CII) and adds the invoice it cancels, the customer-facing reason (the reason code's
label; the free-text reason is internal and not printed) and where the credit went. Nothing here writes to the database or to storage: ``credits.documents`` stores the
bytes.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext_lazy

from coworking.documents.rendering import Formatter
from credits.einvoice import credit_note_document
from credits.models import CreditNote
from credits.wording import allocation_sentences
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


def customer_context(*, credit_note: CreditNote, fmt: Formatter) -> dict:
    """What the PDF and the e-mail tell the customer beyond the figures, in ``fmt``'s
    language: which invoice the note cancels or corrects, the customer-facing reason (never
    the internal one), and where its amount went, one sentence per part that holds an
    amount (so "stays as credit on your account" only when some of it did)."""
    full = cancels_in_full(credit_note)
    reference = (
        _("Cancels invoice %(number)s of %(date)s")
        if full
        else _("Corrects invoice %(number)s of %(date)s")
    )
    return {
        "cancels": reference
        % {"number": credit_note.invoice_number, "date": fmt.date(credit_note.invoice_issue_date)},
        "full": full,
        "title": credit_note_title(full=full),
        "reason": credit_note.customer_reason,
        "allocation": allocation_sentences(credit_note=credit_note, money=fmt.money),
    }


def credit_note_pdf_bytes(*, credit_note: CreditNote, lines=None, preview=False) -> bytes:
    """The PDF of ``credit_note`` as bytes; nothing is stored. Same note → same bytes.

    With ``preview``, ``credit_note`` is an unsaved note (``credits.services.
    credit_note_preview``) with its ``lines``: the same document, without a number and
    marked as a preview, not issued. Raises ``PdfRenderError`` when it cannot be rendered.
    """

    def extra_context(fmt: Formatter) -> dict:
        return {**customer_context(credit_note=credit_note, fmt=fmt), "preview": preview}

    return document_pdf_bytes(
        document=credit_note,
        title=credit_note_title(full=cancels_in_full(credit_note)),
        template="documents/credit_note.html",
        values=credit_note_document(credit_note=credit_note, lines=lines),
        extra_context=extra_context,
        lines=lines,
        facturx=not preview,
    )
