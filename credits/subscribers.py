"""What credits does when something happened (``coworking.events``); registered by
``CreditsConfig.ready()``.

Both run after commit and only queue work: a broker that is down leaves the credit note
``pdf pending`` (or not yet e-mailed) for the sweep, and never undoes the cancel.
"""

from coworking.events import Event, EventType, subscribe
from coworking.queue import enqueue


@subscribe(EventType.CREDIT_NOTE_ISSUED)
def render_credit_note_pdf(event: Event) -> None:
    """A new credit note gets its PDF rendered by a worker."""
    from credits.tasks import render_credit_note_pdf

    enqueue(render_credit_note_pdf, event.instance.pk, if_down="The sweep will render it.")


@subscribe(EventType.CREDIT_NOTE_PDF_READY)
def email_credit_note(event: Event) -> None:
    """A rendered credit note is e-mailed to the customer once, where its location e-mails
    its documents (the task checks again under the note's lock)."""
    from credits.documents import queue_credit_note_email

    note = event.instance
    if note.location.email_documents and note.emailed_at is None:
        queue_credit_note_email(credit_note_id=note.pk)
