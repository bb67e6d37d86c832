"""The lock order of ``coworking.locking`` under real threads on PostgreSQL: issuing a credit
note while the worker records the previous note's PDF (both write the invoice's webhook
event stream) never deadlocks."""

import queue
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.models import CreditNote
from credits.services import LineCredit, credit_note_issue
from invoicing.models import Channel
from tests.concurrency import backend_pid, run_in_threads, waits_for_a_lock
from tests.conftest import wait_until
from tests.factories import issued_invoice
from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


def _credit_one_unit(invoice, line_id) -> CreditNote:
    return credit_note_issue(
        invoice=invoice.pk,
        lines=[LineCredit(line_id, Decimal("1"))],
        actor=None,
        channel=Channel.API,
    )


@pytest.mark.reconciled
def test_issuing_a_credit_note_while_the_previous_notes_pdf_is_recorded_does_not_deadlock():
    """The worker's transaction holds the invoice's event-stream row (``credit_note.pdf_ready``)
    and, at commit, its deferred foreign-key check asks ``FOR KEY SHARE`` on the invoice; the
    issuing transaction holds the invoice and then waits for the stream row. With the invoice
    locked ``FOR UPDATE`` that was a deadlock (one side aborted after ``deadlock_timeout``);
    ``FOR NO KEY UPDATE`` does not conflict with the key-share check."""
    invoice = issued_invoice(specs=[("Day pass", "5", "25.00", "21")])
    line_id = invoice.lines.get().pk
    first = _credit_one_unit(invoice, line_id)
    issuing_pid: queue.Queue[int] = queue.Queue()
    stream_held = threading.Event()

    def worker_records_the_pdf():
        with transaction.atomic():  # commits only once the issuing transaction waits on it
            CREDIT_NOTE_DOCUMENT.render_pdf(document=first.pk)
            stream_held.set()
            pid = issuing_pid.get(timeout=30)
            wait_until(lambda: waits_for_a_lock(pid), timeout=30)
        return "recorded"

    def api_issues_the_next_note():
        issuing_pid.put(backend_pid())
        assert stream_held.wait(timeout=30)
        return _credit_one_unit(invoice, line_id)

    recorded, second = run_in_threads([worker_records_the_pdf, api_issues_the_next_note], threads=2)

    assert recorded == "recorded", recorded
    assert isinstance(second, CreditNote), second
    assert second.sequence_number == first.sequence_number + 1
    first.refresh_from_db()
    assert first.pdf_status == CreditNote.PdfStatus.READY
    # Both events are in the invoice's stream, the PDF's (committed first) before the note's.
    assert list(
        Event.objects.filter(invoice=invoice).order_by("sequence").values_list("type", flat=True)
    ) == ["invoice.issued", "credit_note.issued", "credit_note.pdf_ready", "credit_note.issued"]


def test_every_row_lock_is_taken_by_the_locking_helper():
    """The lock order is documented once (``coworking.locking``); a ``select_for_update``
    elsewhere could take a stronger lock or another order without the document saying so."""
    root = Path(__file__).resolve().parents[2]
    elsewhere = [
        str(path.relative_to(root))
        for app in ("coworking", "invoicing", "credits", "webhooks")
        for path in (root / app).rglob("*.py")
        if "select_for_update(" in path.read_text() and path != root / "coworking/locking.py"
    ]
    assert elsewhere == []
