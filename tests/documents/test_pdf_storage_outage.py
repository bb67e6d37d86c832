"""A storage outage longer than the task's retries: the sweep keeps trying the PDFs that
failed for good, with back-off, for a day after their first failure, then leaves them to
staff; a credit note's e-mail goes once its PDF is there."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

import credits.documents
from coworking.documents.models import PdfRenderRetry
from credits.documents import CREDIT_NOTE_DOCUMENT, credit_note_send_email
from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.documents import INVOICE_DOCUMENT
from invoicing.models import Channel, Invoice
from tests.factories import CustomerFactory, issued_invoice

pytestmark = pytest.mark.django_db

NOW = datetime.timedelta(0)


@pytest.fixture
def schedule(settings):
    settings.DOCUMENT_PDF_SWEEP_RETRY_BACKOFF = 300
    settings.DOCUMENT_PDF_SWEEP_RETRY_BACKOFF_MAX = 3600
    settings.DOCUMENT_PDF_SWEEP_RETRY_FOR = 86400
    return settings


def storage_down(root, folder):
    """The folder PDFs go to cannot be created: a file stands where it should be."""
    root.mkdir(parents=True, exist_ok=True)
    (root / folder).write_text("not a folder")


def storage_back(root, folder):
    (root / folder).unlink()


def time_passes_until_the_next_retry(invoice):
    PdfRenderRetry.objects.filter(kind="invoice", document_id=invoice.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def status(invoice) -> str:
    return Invoice.objects.get(pk=invoice.pk).pdf_status


def test_a_pdf_failed_in_a_storage_outage_is_retried_with_back_off_and_recovers(
    private_documents, schedule
):
    invoice = issued_invoice()
    storage_down(private_documents, "invoices")

    assert invoice.number in INVOICE_DOCUMENT.render_missing(older_than=NOW).failed
    assert status(invoice) == Invoice.PdfStatus.FAILED
    retry = PdfRenderRetry.objects.get(kind="invoice", document_id=invoice.pk)
    first_delay = (retry.next_attempt_at - timezone.now()).total_seconds()
    assert 290 < first_delay <= 300

    # Not due yet: the next sweep leaves it alone.
    report = INVOICE_DOCUMENT.render_missing(older_than=NOW)
    assert report.rendered == [] and report.failed == {}

    # Due, still down: tried, failed again, the delay doubles.
    time_passes_until_the_next_retry(invoice)
    assert invoice.number in INVOICE_DOCUMENT.render_missing(older_than=NOW).failed
    retry.refresh_from_db()
    assert retry.failures == 2
    assert 590 < (retry.next_attempt_at - timezone.now()).total_seconds() <= 600

    # The storage is back: the next due sweep renders it, and the schedule is gone.
    storage_back(private_documents, "invoices")
    time_passes_until_the_next_retry(invoice)
    assert INVOICE_DOCUMENT.render_missing(older_than=NOW).rendered == [invoice.number]
    assert status(invoice) == Invoice.PdfStatus.READY
    assert not PdfRenderRetry.objects.exists()


def test_the_delay_is_capped_and_retries_stop_a_day_after_the_first_failure(
    private_documents, schedule
):
    invoice = issued_invoice()
    storage_down(private_documents, "invoices")
    INVOICE_DOCUMENT.render_missing(older_than=NOW)
    retry = PdfRenderRetry.objects.get(document_id=invoice.pk)
    for _attempt in range(8):
        time_passes_until_the_next_retry(invoice)
        INVOICE_DOCUMENT.render_missing(older_than=NOW)
    retry.refresh_from_db()
    assert retry.failures == 9
    assert (retry.next_attempt_at - timezone.now()).total_seconds() <= 3600  # capped

    PdfRenderRetry.objects.filter(pk=retry.pk).update(
        first_failed_at=timezone.now() - datetime.timedelta(hours=23, minutes=30)
    )
    time_passes_until_the_next_retry(invoice)
    INVOICE_DOCUMENT.render_missing(
        older_than=NOW
    )  # fails once more; the next try would be too late
    retry.refresh_from_db()
    assert retry.next_attempt_at is None
    storage_back(private_documents, "invoices")
    assert (
        INVOICE_DOCUMENT.render_missing(older_than=NOW).rendered == []
    )  # now staff's, not the sweep's
    assert status(invoice) == Invoice.PdfStatus.FAILED


def test_a_credit_note_pdf_failed_in_an_outage_is_retried_by_its_sweep_and_then_emailed(
    private_documents, schedule, monkeypatch, django_capture_on_commit_callbacks
):
    """The customer's e-mail waits for the PDF: none while the storage is down, one once
    the sweep has rendered it (the task queue sends at once here)."""
    monkeypatch.setattr(
        credits.documents,
        "queue_credit_note_email",
        lambda *, credit_note_id: credit_note_send_email(credit_note=credit_note_id),
    )
    invoice = issued_invoice(customer=CustomerFactory(location__email_documents=True))
    note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    storage_down(private_documents, "credit-notes")
    with django_capture_on_commit_callbacks(execute=True):
        CREDIT_NOTE_DOCUMENT.render_missing(older_than=NOW)
    assert CreditNote.objects.get(pk=note.pk).pdf_status == CreditNote.PdfStatus.FAILED
    assert mail.outbox == []

    storage_back(private_documents, "credit-notes")
    PdfRenderRetry.objects.filter(kind="credit-note").update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert CREDIT_NOTE_DOCUMENT.render_missing(older_than=NOW).rendered == [note.number]
    note.refresh_from_db()
    assert note.pdf_status == CreditNote.PdfStatus.READY and note.emailed_at is not None
    (message,) = mail.outbox
    assert message.to == [note.customer.billing_email]
    ((filename, _content, _type),) = message.attachments
    assert filename == f"{note.number}.pdf"
