"""Serving a stored PDF; callers check who may see the document first.

The bytes served are the stored file's, checked against the recorded SHA-256 on every
download (documents are small), so a lost or damaged file is never served: the document
goes back to ``pending`` (which the sweep renders even if the queue is down), a render is
queued, and the caller gets ``PdfUnavailable`` (503) instead of a server error.
"""

import io
from collections.abc import Callable

from django.db import transaction
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _

from coworking.documents.models import Document, PdfStatus
from coworking.documents.storage import document_pdf_lost, stored_pdf_bytes
from coworking.errors import PdfNotReady, PdfUnavailable


def document_pdf_response(
    *, document: Document, queue_render: Callable[[int], None]
) -> FileResponse:
    """An attachment response with the stored PDF of ``document``.

    Raises ``PdfNotReady`` while it is not rendered, and ``PdfUnavailable`` when the stored
    file is missing or no longer matches its SHA-256; then the document is marked
    ``pending`` and ``queue_render(document.pk)`` runs after commit.
    """
    if document.pdf_status != PdfStatus.READY or not document.pdf_file:
        raise PdfNotReady()
    data = stored_pdf_bytes(document)
    if data is None:
        reason = str(_("The stored PDF is missing or damaged."))
        if document_pdf_lost(document=document, reason=reason):
            transaction.on_commit(lambda: queue_render(document.pk))
        raise PdfUnavailable()
    return FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename=document.pdf_filename,
        content_type="application/pdf",
    )
