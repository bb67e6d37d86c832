"""Credit-note PDFs and their e-mail: render, store, record, send.

The PDF of a credit note is rendered by a worker after the note is issued
(``credits.subscribers``, ``credits.tasks``), stored and recorded by
``coworking.documents.storage`` (private storage, SHA-256, size); rendering a ready note
again does nothing unless forced, and gives the same bytes. Notes whose PDF was never
queued (broker down at cancel time) or whose file was lost are picked up by
``credit_notes_render_missing`` (Celery beat, every minute).
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import FileResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coworking.documents.downloads import document_pdf_response
from coworking.documents.rendering import Formatter, document_language
from coworking.documents.storage import (
    PDF_SWEEP_BATCH,
    RenderReport,
    document_pdf_failed,
    document_pdf_lost,
    document_render_pdf,
    documents_missing_pdf,
    documents_render_pdfs,
    stored_pdf_bytes,
    sweep_delay,
)
from coworking.events import EventType, announce
from coworking.locking import lock_rows
from coworking.queue import enqueue
from credits.models import CreditNote

logger = logging.getLogger(__name__)

EMAIL_CATCH_UP_WINDOW = datetime.timedelta(days=2)


def _announce_ready(note: CreditNote) -> None:
    """Tell who listens that the PDF is ready and, after commit, e-mail it to the customer
    once where its location e-mails its documents (the task checks again under the note's
    lock)."""
    announce(type=EventType.CREDIT_NOTE_PDF_READY, instance=note)
    if note.location.email_documents and note.emailed_at is None:
        credit_note_id = note.pk
        transaction.on_commit(
            lambda: queue_credit_note_email(credit_note_id=credit_note_id), robust=True
        )


def credit_note_render_pdf(*, credit_note: CreditNote | int, force: bool = False) -> CreditNote:
    """Render, store and record the PDF of a credit note; return the note as stored.

    Idempotent (a ``ready`` note is left alone unless ``force``) and reproducible (a forced
    re-render records the same file and SHA-256). Concurrent renders of one note record
    one result, which announces ``credit_note.pdf_ready`` (``credits.subscribers`` then
    queues the e-mail where the location wants it). Raises ``CreditNote.DoesNotExist``,
    ``PdfRenderError`` and whatever the storage raises; the note is then unchanged (callers
    record the failure with ``credit_note_pdf_failed``).
    """
    from credits import pdf

    return document_render_pdf(
        model=CreditNote,
        document=credit_note,
        render=lambda note: pdf.credit_note_pdf_bytes(credit_note=note),
        force=force,
        on_ready=_announce_ready,
    )


def credit_note_pdf_failed(*, credit_note: CreditNote | int, error: str, final: bool) -> None:
    """Record a failed render attempt: its reason always, status ``failed`` when ``final``
    (a ``ready`` PDF is kept: a failed forced re-render does not take away a good one)."""
    document_pdf_failed(model=CreditNote, document=credit_note, error=error, final=final)


def queue_credit_note_pdf(*, credit_note_id: int) -> None:
    """Hand the PDF to the task queue; if the broker is down the sweep renders it."""
    from credits.tasks import render_credit_note_pdf

    enqueue(render_credit_note_pdf, credit_note_id, if_down="The sweep will render it.")


def credit_note_pdf_response(*, credit_note: CreditNote) -> FileResponse:
    """The stored PDF as an attachment; callers check who may see the note first. Raises
    ``PdfNotReady`` (409) while it is rendered, ``PdfUnavailable`` (503) when its file was
    lost (a new render is queued)."""
    return document_pdf_response(
        document=credit_note, queue_render=lambda pk: queue_credit_note_pdf(credit_note_id=pk)
    )


def credit_notes_missing_pdf(*, older_than: datetime.timedelta | None = None):
    """Credit notes whose PDF is still ``pending`` ``older_than`` after their creation
    (default: ``DOCUMENT_PDF_SWEEP_AFTER`` seconds, a minute), oldest first. Failed notes
    wait for someone to read the reason and use the admin action "Render missing PDFs"."""
    return documents_missing_pdf(queryset=CreditNote.objects.all(), older_than=older_than)


def credit_notes_render_pdfs(*, credit_notes, force: bool = False) -> RenderReport:
    """Render the PDF of each note in turn; a failure is recorded on its note (``failed``,
    with the reason) and does not stop the others. Returns the numbers rendered and failed.
    """
    return documents_render_pdfs(
        documents=credit_notes,
        render_one=lambda pk: credit_note_render_pdf(credit_note=pk, force=force),
        record_failure=lambda pk, reason: credit_note_pdf_failed(
            credit_note=pk, error=reason, final=True
        ),
    )


def credit_notes_render_missing(
    *, older_than: datetime.timedelta | None = None, limit: int = PDF_SWEEP_BATCH
) -> RenderReport:
    """The sweep: render the PDFs still ``pending`` a minute after their note was issued
    (``older_than``, default ``DOCUMENT_PDF_SWEEP_AFTER``).

    Catches up what was never queued (broker down at cancel time) or lost (worker died,
    stored file gone). At most ``limit`` notes per run, oldest first; the next run takes
    the rest. Also queues the e-mails of notes rendered in the last two days that were not
    sent (the e-mail of an older note is not sent late, so switching a location's e-mail
    on does not mail its history).
    """
    older_than = sweep_delay() if older_than is None else older_than
    report = credit_notes_render_pdfs(
        credit_notes=list(credit_notes_missing_pdf(older_than=older_than)[:limit])
    )
    now = timezone.now()
    unsent = CreditNote.objects.filter(
        pdf_status=CreditNote.PdfStatus.READY,
        location__email_documents=True,
        emailed_at__isnull=True,
        pdf_rendered_at__lte=now - older_than,
        pdf_rendered_at__gte=now - EMAIL_CATCH_UP_WINDOW,
    ).values_list("pk", flat=True)
    for credit_note_id in unsent[:limit]:
        queue_credit_note_email(credit_note_id=credit_note_id)
    return report


def credit_note_send_email(*, credit_note: CreditNote | int) -> bool:
    """E-mail the credit note with its PDF attached to the customer's billing address, once.

    Returns ``True`` when it was sent now, ``False`` when there is nothing to do: already
    sent, the location does not e-mail its documents, or the PDF is not ready yet (the
    render queues the e-mail when it is). The note's row is locked while sending and
    ``emailed_at`` is set in the same transaction, so concurrent or repeated calls send
    once. A stored file found lost is rendered again first (the render queues the e-mail).
    Raises what the e-mail backend raises; nothing is recorded then, so a retry sends.
    (If the database fails after the mail server accepted the message, a retry sends it a
    second time: a duplicate is preferred to a credit note the customer never receives.)
    """
    credit_note_id = credit_note.pk if isinstance(credit_note, CreditNote) else credit_note
    with transaction.atomic():
        note = lock_rows(CreditNote.objects.select_related("location", "customer")).get(
            pk=credit_note_id
        )
        if (
            note.emailed_at is not None
            or not note.location.email_documents
            or note.pdf_status != CreditNote.PdfStatus.READY
        ):
            return False
        from credits.pdf import customer_context

        language = document_language(note.customer)
        with translation.override(language):
            context = {
                "credit_note": note,
                "location": note.location,
                "customer": note.customer,
                **customer_context(credit_note=note, fmt=Formatter(language)),
            }
            subject = _("%(title)s %(number)s from %(location)s") % {
                "title": context["title"],
                "number": note.number,
                "location": note.location.legal_name,
            }
            body = render_to_string("documents/credit_note_email.txt", context)
        data = stored_pdf_bytes(note)
        if data is None:
            if document_pdf_lost(document=note, reason=_("The stored PDF is missing or damaged.")):
                transaction.on_commit(lambda: queue_credit_note_pdf(credit_note_id=note.pk))
            return False
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[note.customer.billing_email],
        )
        message.attach(note.pdf_filename, data, "application/pdf")
        message.send(fail_silently=False)
        note.emailed_at = timezone.now()
        note.save(update_fields=["emailed_at"])
    return True


def queue_credit_note_email(*, credit_note_id: int) -> None:
    """Hand the e-mail to the task queue; if the broker is down the sweep queues it later."""
    from credits.tasks import send_credit_note_email

    enqueue(send_credit_note_email, credit_note_id, if_down="The sweep will queue it again.")
