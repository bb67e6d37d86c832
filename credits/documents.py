"""Credit-note PDFs and their e-mail: render, store, record, send.

The PDF of a credit note is rendered off the request path (``credits.tasks``), stored in
the private "documents" storage under a name carrying its content hash, and recorded on
the note (status, SHA-256, size). Rendering is idempotent and reproducible: a ready note
is left alone unless forced, and a forced render of an unchanged note yields the same
bytes, hence the same file. Notes whose PDF was never queued (broker down at cancel
time) are picked up by ``credit_notes_render_missing`` (Celery beat, every minute).
"""

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from coworking.celery import enqueue
from coworking.events import EventType, announce
from credits.models import CreditNote

logger = logging.getLogger(__name__)

PDF_SWEEP_BATCH = 200
EMAIL_CATCH_UP_WINDOW = datetime.timedelta(days=2)


def _pdf_storage_name(*, credit_note: CreditNote, sha256: str) -> str:
    year = credit_note.issue_date.year
    return f"credit-notes/{year}/{get_valid_filename(credit_note.number)}-{sha256[:16]}.pdf"


def credit_note_render_pdf(*, credit_note: CreditNote | int, force: bool = False) -> CreditNote:
    """Render, store and record the PDF of a credit note; return the note as stored.

    Idempotent: a note whose PDF is ``ready`` is returned untouched unless ``force``.
    Reproducible: the same note renders to the same bytes, so a forced re-render finds its
    file already stored and records the same SHA-256. The file goes to the private
    "documents" storage through the storage API (no public URL). The rendering runs outside
    any transaction; recording it locks the note's row briefly, so concurrent renders of one
    note (task, sweep, admin) record one result, and announce ``credit_note.pdf_ready``
    (after which ``credits.subscribers`` queues the e-mail where the location wants it).

    Raises ``CreditNote.DoesNotExist``, ``credits.pdf.PdfRenderError`` and whatever the
    storage raises; the note is then unchanged (callers record the failure with
    ``credit_note_pdf_failed``).
    """
    from credits.pdf import credit_note_pdf_bytes

    credit_note_id = credit_note.pk if isinstance(credit_note, CreditNote) else credit_note
    note = CreditNote.objects.select_related("location", "customer").get(pk=credit_note_id)
    if note.pdf_status == CreditNote.PdfStatus.READY and not force:
        return note
    data = credit_note_pdf_bytes(credit_note=note)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        note = (
            CreditNote.objects.select_for_update(of=("self",))
            .select_related("location")
            .get(pk=credit_note_id)
        )
        if note.pdf_status == CreditNote.PdfStatus.READY and not force:
            return note
        storage = note.pdf_file.storage
        name = _pdf_storage_name(credit_note=note, sha256=digest)
        if not storage.exists(name):
            name = storage.save(name, ContentFile(data))
        note.pdf_file.name = name
        note.pdf_status = CreditNote.PdfStatus.READY
        note.pdf_sha256 = digest
        note.pdf_size = len(data)
        note.pdf_error = ""
        note.pdf_rendered_at = timezone.now()
        note.save(
            update_fields=[
                "pdf_file",
                "pdf_status",
                "pdf_sha256",
                "pdf_size",
                "pdf_error",
                "pdf_rendered_at",
            ]
        )
        announce(type=EventType.CREDIT_NOTE_PDF_READY, instance=note)
    return note


def credit_note_pdf_failed(*, credit_note: CreditNote | int, error: str, final: bool) -> None:
    """Record a failed render attempt: its reason always, status ``failed`` when ``final``.

    A note whose PDF is already ``ready`` keeps it (a failed forced re-render does not
    take away a good PDF); only the reason is recorded then.
    """
    credit_note_id = credit_note.pk if isinstance(credit_note, CreditNote) else credit_note
    error = (error or _("Unknown error"))[:2000]
    with transaction.atomic():
        note = CreditNote.objects.select_for_update(of=("self",)).get(pk=credit_note_id)
        note.pdf_error = error
        fields = ["pdf_error"]
        if final and note.pdf_status != CreditNote.PdfStatus.READY:
            note.pdf_status = CreditNote.PdfStatus.FAILED
            fields.append("pdf_status")
        note.save(update_fields=fields)


def _sweep_delay() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CREDIT_NOTE_PDF_SWEEP_AFTER)


def credit_notes_missing_pdf(*, older_than: datetime.timedelta | None = None):
    """Credit notes whose PDF is still ``pending`` ``older_than`` after their creation
    (default: ``CREDIT_NOTE_PDF_SWEEP_AFTER`` seconds, a minute), oldest first.

    Failed notes are not included: they wait for someone to read the reason and use the
    admin action "Render missing PDFs".
    """
    older_than = _sweep_delay() if older_than is None else older_than
    return CreditNote.objects.filter(
        pdf_status=CreditNote.PdfStatus.PENDING, created_at__lte=timezone.now() - older_than
    ).order_by("created_at", "pk")


@dataclass(frozen=True)
class RenderReport:
    rendered: list[str]
    failed: dict[str, str]


def credit_notes_render_pdfs(*, credit_notes, force: bool = False) -> RenderReport:
    """Render the PDF of each note in turn; a failure is recorded on its note (``failed``,
    with the reason) and does not stop the others. Returns the numbers rendered and failed.
    """
    rendered, failed = [], {}
    for note in credit_notes:
        try:
            credit_note_render_pdf(credit_note=note.pk, force=force)
        except Exception as error:
            logger.exception("Rendering the PDF of credit note %s failed.", note.number)
            reason = f"{type(error).__name__}: {error}"
            credit_note_pdf_failed(credit_note=note.pk, error=reason, final=True)
            failed[note.number] = reason
        else:
            rendered.append(note.number)
    return RenderReport(rendered=rendered, failed=failed)


def credit_notes_render_missing(
    *, older_than: datetime.timedelta | None = None, limit: int = PDF_SWEEP_BATCH
) -> RenderReport:
    """The sweep: render the PDFs still ``pending`` a minute after their note was issued
    (``older_than``, default ``CREDIT_NOTE_PDF_SWEEP_AFTER``).

    Catches up what was never queued (broker down at cancel time) or lost (worker died).
    At most ``limit`` notes per run, oldest first; the next run takes the rest. Also queues
    the e-mails of notes rendered in the last two days that were not sent (the e-mail of
    an older note is not sent late, so switching a location's e-mail on does not mail its
    history).
    """
    older_than = _sweep_delay() if older_than is None else older_than
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
    once. Raises what the e-mail backend raises; nothing is recorded then, so a retry sends.
    (If the database fails after the mail server accepted the message, a retry sends it a
    second time: a duplicate is preferred to a credit note the customer never receives.)
    """
    from credits.pdf import document_language

    credit_note_id = credit_note.pk if isinstance(credit_note, CreditNote) else credit_note
    with transaction.atomic():
        note = (
            CreditNote.objects.select_for_update(of=("self",))
            .select_related("location", "customer")
            .get(pk=credit_note_id)
        )
        if (
            note.emailed_at is not None
            or not note.location.email_documents
            or note.pdf_status != CreditNote.PdfStatus.READY
        ):
            return False
        with translation.override(document_language(note.customer)):
            context = {"credit_note": note, "location": note.location, "customer": note.customer}
            subject = _("Credit note %(number)s from %(location)s") % {
                "number": note.number,
                "location": note.location.legal_name,
            }
            body = render_to_string("documents/credit_note_email.txt", context)
        with note.pdf_file.open("rb") as pdf:
            data = pdf.read()
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
