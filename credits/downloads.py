"""Serving stored credit-note PDFs; callers check who may see the note first."""

from django.http import FileResponse

from credits.errors import PdfNotReady
from credits.models import CreditNote


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
