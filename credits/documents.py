"""Credit-note PDFs and their e-mail: the kind declared once, and the e-mail.

``CREDIT_NOTE_DOCUMENT`` declares how a credit note's PDF is rendered (``credits.pdf``); storing,
recording, the render task, the sweep and the download follow from it
(``coworking.documents.kinds``). The cancel queues the PDF after it commits; a note whose PDF
was never queued (broker down at cancel time) or whose file was lost is picked up by the sweep
(Celery beat, every minute), which also queues the e-mails not sent yet.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coworking.documents.kinds import DocumentKind
from coworking.documents.rendering import Formatter, document_language
from coworking.documents.storage import document_pdf_lost, stored_pdf_bytes
from coworking.events import EventType, announce
from coworking.locking import lock_rows
from coworking.queue import enqueue
from credits.models import CreditNote

logger = logging.getLogger(__name__)

EMAIL_CATCH_UP_WINDOW = datetime.timedelta(days=2)


def _render(note: CreditNote) -> bytes:
    from credits import pdf

    return pdf.credit_note_pdf_bytes(credit_note=note)


def _einvoice(note: CreditNote, syntax: str) -> bytes:
    from credits.einvoice import credit_note_einvoice

    return credit_note_einvoice(credit_note=note, syntax=syntax)


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


def _queue_unsent_emails(older_than: datetime.timedelta, limit: int) -> None:
    """After the sweep: queue the e-mails of notes rendered in the last two days that were
    not sent (the e-mail of an older note is not sent late, so switching a location's e-mail
    on does not mail its history)."""
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


CREDIT_NOTE_DOCUMENT = DocumentKind(
    model=CreditNote,
    app="credits",
    event="credit_note",
    render=_render,
    describe=lambda note: {"credit_note": note.number, "invoice": note.invoice_number},
    on_ready=_announce_ready,
    after_sweep=_queue_unsent_emails,
    einvoice=_einvoice,
    log=logging.getLogger("credits.tasks"),
)


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
                transaction.on_commit(lambda: CREDIT_NOTE_DOCUMENT.queue_pdf(document_id=note.pk))
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
    enqueue(
        "credits.send_credit_note_email", credit_note_id, if_down="The sweep will queue it again."
    )
