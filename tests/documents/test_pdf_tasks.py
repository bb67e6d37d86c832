"""Credit-note PDFs through the real Redis broker and a real Celery worker: rendering after
the cancel commits, the broker being down at cancel time, worker failures, e-mail once."""

import hashlib
import socket
import time

from django.core import mail
from django.urls import reverse

import credits.pdf
from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.models import CreditNote
from credits.services import invoice_cancel
from credits.tasks import render_credit_note_pdf, render_missing_pdfs, send_credit_note_email
from invoicing.models import Channel, Invoice
from invoicing.services import payment_record
from invoicing.tasks import render_invoice_pdf
from tests.conftest import broker_unreachable, wait_until
from tests.factories import CustomerFactory, issued_invoice, staff_user


def status_of(note):
    return CreditNote.objects.get(pk=note.pk).pdf_status


def cancel(*, email_documents=False):
    customer = CustomerFactory(location__email_documents=email_documents)
    return invoice_cancel(
        invoice=issued_invoice(customer=customer), actor=staff_user(), channel=Channel.ADMIN
    )


def test_the_worker_renders_after_commit_and_emails_once(celery_worker, private_documents):
    note = cancel(email_documents=True)

    wait_until(lambda: status_of(note) == CreditNote.PdfStatus.READY)
    wait_until(lambda: CreditNote.objects.get(pk=note.pk).emailed_at is not None)
    note.refresh_from_db()
    assert len(mail.outbox) == 1
    assert (private_documents / note.pdf_file.name).is_file()

    # Run both tasks again; a marker render behind them in the queue (one solo worker,
    # prefetch 1) tells when they have been processed.
    send_credit_note_email.delay(note.pk)
    render_credit_note_pdf.delay(note.pk)
    marker = cancel(email_documents=False)
    wait_until(lambda: status_of(marker) == CreditNote.PdfStatus.READY)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [note.customer.billing_email]
    again = CreditNote.objects.get(pk=note.pk)
    assert (again.pdf_rendered_at, again.emailed_at) == (note.pdf_rendered_at, note.emailed_at)


def test_broker_down_at_cancel_leaves_the_note_pending_until_the_sweep(
    transactional_db, private_documents, settings, request
):
    invoice = issued_invoice()

    with broker_unreachable():
        started = time.monotonic()
        note = invoice_cancel(invoice=invoice, actor=staff_user(), channel=Channel.ADMIN)
        elapsed = time.monotonic() - started

    assert elapsed < 5  # the broker timeouts in settings: the cancel never hangs on it
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.CANCELLED
    assert status_of(note) == CreditNote.PdfStatus.PENDING
    assert CREDIT_NOTE_DOCUMENT.render_missing().rendered == []  # younger than a minute: not yet

    settings.DOCUMENT_PDF_SWEEP_AFTER = 0  # as if the minute had passed
    request.getfixturevalue("celery_worker")
    render_missing_pdfs.delay()  # what Celery beat sends every minute

    wait_until(lambda: status_of(note) == CreditNote.PdfStatus.READY)
    note.refresh_from_db()
    assert (private_documents / note.pdf_file.name).is_file() and note.pdf_sha256


def test_a_failing_render_is_retried_then_failed_with_its_reason_and_recovers(
    celery_worker, private_documents, settings, monkeypatch, client
):
    settings.DOCUMENT_PDF_MAX_RETRIES = 2
    settings.DOCUMENT_PDF_RETRY_BACKOFF = 0.05
    settings.DOCUMENT_PDF_RETRY_JITTER = False
    attempts, broken = [], [True]
    original = credits.pdf.credit_note_pdf_bytes

    def render(*, credit_note):
        attempts.append(time.monotonic())
        if broken[0]:
            raise RuntimeError("renderer crashed")
        return original(credit_note=credit_note)

    monkeypatch.setattr(credits.pdf, "credit_note_pdf_bytes", render)

    note = cancel()

    wait_until(lambda: status_of(note) == CreditNote.PdfStatus.FAILED)
    assert len(attempts) == 3  # the first run and two retries
    note.refresh_from_db()
    assert note.pdf_error == "RuntimeError: renderer crashed" and not note.pdf_file
    client.force_login(staff_user(cancel=False))
    page = client.get(reverse("admin:credits_creditnote_change", args=[note.pk]))
    assert "RuntimeError: renderer crashed" in page.content.decode()
    assert render_missing_pdfs.run()["rendered"] == []  # its sweep retry is minutes away

    broken[0] = False  # the fix is deployed; re-run
    render_credit_note_pdf.delay(note.pk)

    wait_until(lambda: status_of(note) == CreditNote.PdfStatus.READY)
    note.refresh_from_db()
    assert note.pdf_error == "" and len(attempts) == 4


def test_a_broker_that_never_answers_does_not_hang_the_cancel(transactional_db):
    """A half-open broker (accepts the connection, never replies): the read timeout in the
    settings bounds the wait, the cancel succeeds and the note waits for the sweep."""
    invoice = issued_invoice()
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        with broker_unreachable(f"redis://127.0.0.1:{port}/0"):
            started = time.monotonic()
            note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
            elapsed = time.monotonic() - started

    assert elapsed < 10
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.CANCELLED
    assert status_of(note) == CreditNote.PdfStatus.PENDING


def test_an_issued_invoice_gets_its_pdf_from_the_worker_and_keeps_it(
    celery_worker, private_documents
):
    """``invoice.issued`` queues the render after commit; the stored PDF is the invoice as
    issued, so paying it later changes nothing in storage."""
    invoice = issued_invoice()

    wait_until(lambda: Invoice.objects.get(pk=invoice.pk).pdf_status == Invoice.PdfStatus.READY)
    stored = Invoice.objects.get(pk=invoice.pk)
    data = (private_documents / stored.pdf_file.name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == stored.pdf_sha256 and stored.pdf_size == len(data)
    assert stored.pdf_file.name.startswith(f"invoices/{stored.issue_date.year}/{stored.number}-")

    payment_record(invoice=stored, amount=stored.amount_due)
    render_invoice_pdf.delay(invoice.pk, True)  # forced: renders again, same bytes
    wait_until(lambda: Invoice.objects.get(pk=invoice.pk).pdf_rendered_at > stored.pdf_rendered_at)
    again = Invoice.objects.get(pk=invoice.pk)
    assert (again.pdf_sha256, again.pdf_file.name) == (stored.pdf_sha256, stored.pdf_file.name)
    assert len(list(private_documents.rglob("invoices/**/*.pdf"))) == 1
