"""Serving stored credit-note PDFs; callers check who may see the note first."""

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _

from coworking.errors import StateConflict
from credits.models import CreditNote


class PdfNotReady(StateConflict):
    code = "pdf_not_ready"
    default_message = _("The PDF of this document is not ready yet; try again in a minute.")


def credit_note_pdf_response(*, credit_note: CreditNote) -> FileResponse:
    """An attachment response with the stored PDF. Raises ``PdfNotReady``."""
    if credit_note.pdf_status != CreditNote.PdfStatus.READY or not credit_note.pdf_file:
        raise PdfNotReady()
    return FileResponse(
        credit_note.pdf_file.open("rb"),
        as_attachment=True,
        filename=credit_note.pdf_filename,
        content_type="application/pdf",
    )
