"""What beat does for operations, and the structured log lines: bulk cancellations left
queued are queued again, failed PDFs are warned about, cancels / bulk runs / PDF renders
each log one line with their fields."""

import datetime
import json
import logging

import pytest
from django.conf import settings
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter

from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.models import BulkCancellation, CreditNote
from credits.services import bulk_cancellation_run, bulk_cancellation_start, invoice_cancel
from credits.tasks import requeue_bulk_cancellations, warn_failed_pdfs
from invoicing import tasks as invoicing_tasks
from invoicing.documents import INVOICE_DOCUMENT
from invoicing.models import Channel, Invoice
from tests.conftest import broker_unreachable, wait_until
from tests.factories import issued_invoice, staff_user


def records(caplog, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == event]


def as_json(record: logging.LogRecord) -> dict:
    """The record as the production formatter (settings.LOGGING, LOG_FORMAT=json) writes it."""
    config = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])
    return json.loads(formatter.format(record))


def test_beat_runs_each_periodic_task_from_one_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert tasks == {
        "invoicing.render_missing_pdfs",
        "invoicing.warn_failed_pdfs",
        "credits.render_missing_pdfs",
        "credits.requeue_bulk_cancellations",
        "credits.reconcile",
        "credits.warn_failed_pdfs",
        "coworking.purge_idempotency_keys",
        "invoicing.purge_prepared_statements",
        "webhooks.sweep",
    }


def test_a_bulk_cancellation_left_queued_is_queued_again_and_runs(celery_worker):
    invoices = [issued_invoice() for _ in range(3)]
    with broker_unreachable():
        bulk = bulk_cancellation_start(
            invoice_ids=[i.pk for i in invoices], actor=staff_user(), reason="Closed"
        )
    recent = bulk_cancellation_start(invoice_ids=[issued_invoice().pk], actor=None)
    wait_until(lambda: BulkCancellation.objects.get(pk=recent.pk).status == "done")
    assert BulkCancellation.objects.get(pk=bulk.pk).status == BulkCancellation.Status.QUEUED

    assert requeue_bulk_cancellations() == []  # not stale yet: its task may still be coming

    BulkCancellation.objects.filter(pk=bulk.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    assert requeue_bulk_cancellations() == [bulk.pk]

    wait_until(lambda: BulkCancellation.objects.get(pk=bulk.pk).status == "done")
    assert Invoice.objects.filter(pk__in=[i.pk for i in invoices], state="cancelled").count() == 3
    assert requeue_bulk_cancellations() == []


@pytest.mark.django_db
def test_failed_pdfs_are_warned_about_with_their_numbers(caplog):
    assert warn_failed_pdfs() == 0
    note = invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.SYSTEM)
    invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.SYSTEM)  # pending
    CREDIT_NOTE_DOCUMENT.pdf_failed(document=note.pk, error="OSError: disk full", final=True)
    assert records(caplog, "credit_note.pdf_failed_pending") == []

    with caplog.at_level(logging.WARNING):
        assert warn_failed_pdfs() == 1

    (record,) = records(caplog, "credit_note.pdf_failed_pending")
    assert record.levelno == logging.WARNING
    assert as_json(record)["credit_notes"] == [note.number]


@pytest.mark.django_db
def test_failed_invoice_pdfs_are_warned_about_with_their_numbers(caplog):
    assert invoicing_tasks.warn_failed_pdfs() == 0
    failed, _pending = issued_invoice(), issued_invoice()
    INVOICE_DOCUMENT.pdf_failed(document=failed.pk, error="OSError: disk full", final=True)

    with caplog.at_level(logging.WARNING):
        assert invoicing_tasks.warn_failed_pdfs() == 1

    (record,) = records(caplog, "invoice.pdf_failed_pending")
    assert record.levelno == logging.WARNING
    assert as_json(record)["invoices"] == [failed.number]


@pytest.mark.django_db
def test_a_cancel_logs_one_structured_line(caplog):
    user = staff_user()
    invoice = issued_invoice()

    with caplog.at_level(logging.INFO, logger="credits.services"):
        note = invoice_cancel(invoice=invoice, actor=user, reason="Twice", channel=Channel.API)

    (record,) = records(caplog, "invoice.cancelled")
    line = as_json(record)
    assert line["invoice"] == invoice.number and line["credit_note"] == note.number
    assert line["actor"] == user.username and line["channel"] == "api"
    assert line["duration_ms"] > 0
    assert line["level"] == "INFO" and line["logger"] == "credits.services"
    assert line["message"] == f"Invoice {invoice.number} cancelled by credit note {note.number}."


@pytest.mark.django_db
def test_a_bulk_run_logs_its_start_progress_and_end(caplog, monkeypatch):
    from credits.services import bulk

    monkeypatch.setattr(bulk._BulkProgress, "EVERY", 2)
    invoices = [issued_invoice() for _ in range(4)]
    invoice_cancel(invoice=invoices[0], actor=None, channel=Channel.SYSTEM)
    with broker_unreachable():
        bulk = bulk_cancellation_start(invoice_ids=[i.pk for i in invoices], actor=staff_user())

    with caplog.at_level(logging.INFO, logger="credits.services"):
        bulk_cancellation_run(bulk_id=bulk.pk)

    (started,) = records(caplog, "bulk_cancellation.started")
    progress = records(caplog, "bulk_cancellation.progress")
    (finished,) = records(caplog, "bulk_cancellation.finished")
    assert as_json(started)["total"] == 4
    assert [r.getMessage() for r in progress] == [
        f"Bulk cancellation {bulk.pk}: 2 of 4 invoices processed.",
        f"Bulk cancellation {bulk.pk}: 4 of 4 invoices processed.",
    ]
    line = as_json(finished)
    assert (line["cancelled"], line["skipped"], line["failed"]) == (3, 1, 0)
    assert line["channel"] == Channel.ADMIN_BULK and line["duration_ms"] > 0


def test_a_rendered_pdf_logs_its_outcome(celery_worker, caplog):
    caplog.set_level(logging.INFO, logger="credits.tasks")
    note = invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.SYSTEM)

    wait_until(lambda: CreditNote.objects.get(pk=note.pk).pdf_status == "ready")
    wait_until(lambda: records(caplog, "credit_note.pdf_ready"))

    line = as_json(records(caplog, "credit_note.pdf_ready")[0])
    stored = CreditNote.objects.get(pk=note.pk)
    assert line["credit_note"] == note.number and line["invoice"] == note.invoice_number
    assert line["sha256"] == stored.pdf_sha256 and line["bytes"] == stored.pdf_size
    assert line["duration_ms"] > 0
