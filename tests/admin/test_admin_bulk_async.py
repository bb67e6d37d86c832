"""A large admin selection (above the threshold) runs as a Celery task on a real worker and
Redis broker, with its progress and per-invoice results in the database."""

import pytest
from django.urls import reverse

from credits.admin import bulk as bulk_admin
from credits.models import BulkCancellation, BulkCancellationItem, CreditNote
from credits.reconciliation import reconcile
from invoicing.models import Channel, Invoice
from tests.conftest import money_amounts, wait_until
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user

CHANGELIST = reverse("admin:invoicing_invoice_changelist")
SELECTED = 60


@pytest.mark.django_db(transaction=True)
def test_a_selection_above_the_threshold_is_cancelled_by_the_task_with_progress(
    client, request, settings, monkeypatch
):
    """60 invoices over a threshold of 25 and results sent 25 per poll: the same path as
    480 over the default 200 and 200 per poll (the task, the progress seen part-way, the
    results over several polls, each invoice once), at an eighth of the documents, whose
    issuing and cancelling are what the test's time goes to."""
    settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD = 25
    monkeypatch.setattr(bulk_admin, "PROGRESS_RESULTS_PER_POLL", 25)
    assert settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD < SELECTED
    location = LocationFactory(credit_note_prefix="BULK")
    customers = [CustomerFactory(location=location) for _ in range(5)]
    invoices = [
        issued_invoice(customer=customers[n % 5], specs=[("Desk", "1", "100.00", "21")])
        for n in range(SELECTED)
    ]
    # The worker starts now and purges the invoice PDFs just queued: rendering them while
    # the invoices are issued is not what this test is about, and took most of its time.
    request.getfixturevalue("celery_worker")
    user = staff_user(cancel=True)
    client.force_login(user)
    data = {
        "action": "cancel_selected",
        "index": "0",
        "_selected_action": [str(invoice.pk) for invoice in invoices],
    }

    confirmation_page = client.post(CHANGELIST, data)
    confirmation = confirmation_page.content.decode()
    assert "background-note" in confirmation
    assert confirmation.count('name="_selected_action"') == SELECTED
    totals = confirmation[confirmation.index('id="totals"') :]
    assert money_amounts(totals)[0] == ("EUR", "€7,260.00")  # 60 × 121.00

    shown = confirmation_page.context["confirmation"]  # what Continue posts back
    response = client.post(
        CHANGELIST, {**data, "post": "yes", "reason": "Space closed", "confirmation": shown}
    )

    bulk = BulkCancellation.objects.get()
    progress_page = reverse("admin:invoicing_invoice_bulk_cancellation", args=[bulk.pk])
    progress_json = reverse("admin:invoicing_invoice_bulk_cancellation_progress", args=[bulk.pk])
    assert response.status_code == 302 and response.url == progress_page
    assert bulk.total == SELECTED and bulk.channel == Channel.ADMIN_BULK

    # Poll like the page does, and watch the results arrive while the task runs.
    seen_done, results, after = [], [], 0
    deadline_poll = {"finished": False}

    def poll():
        nonlocal after
        payload = client.get(progress_json, {"after": after}).json()
        seen_done.append(payload["done"])
        results.extend(payload["results"])
        after = payload["next"]
        deadline_poll["finished"] = payload["finished"] and not payload["more"]
        return deadline_poll["finished"]

    wait_until(poll, timeout=240, interval=0.1)

    assert any(0 < done < SELECTED for done in seen_done), seen_done  # progress, not a jump
    assert seen_done == sorted(seen_done) and seen_done[-1] == SELECTED
    # Per-invoice results, each once, each with its credit note.
    assert [row["invoice"] for row in results] == [invoice.number for invoice in invoices]
    assert {row["outcome"] for row in results} == {"cancelled"}
    assert len({row["credit_note"] for row in results}) == SELECTED

    bulk.refresh_from_db()
    assert bulk.status == BulkCancellation.Status.DONE and bulk.finished_at is not None
    notes = CreditNote.objects.filter(location=location)
    assert notes.count() == SELECTED
    assert sorted(notes.values_list("sequence_number", flat=True)) == list(range(1, SELECTED + 1))
    assert set(notes.values_list("channel", "reason", "created_by")) == {
        (Channel.ADMIN_BULK, "Space closed", user.pk)
    }
    assert not Invoice.objects.exclude(state=Invoice.State.CANCELLED).exists()
    items = BulkCancellationItem.objects.filter(bulk=bulk).select_related("credit_note")
    assert all(item.credit_note.invoice_id == item.invoice_id for item in items)
    assert {item.outcome for item in items} == {BulkCancellationItem.Outcome.CANCELLED}
    assert reconcile() == {name: [] for name in reconcile()}

    # The page survives a reload and keeps the results afterwards.
    page = client.get(progress_page).content.decode()
    assert f'id="bulk-done">{SELECTED}</strong> / <span id="bulk-total">{SELECTED}</span>' in page
    assert page.count('class="outcome-cancelled"') == SELECTED


@pytest.mark.django_db(transaction=True)
def test_two_runners_of_one_bulk_share_the_work_and_cancel_each_invoice_once():
    """A redelivered task may run beside the first one: items are claimed with SKIP LOCKED,
    so each invoice is cancelled once, by one of them, and none is reported as skipped."""
    import threading

    from django.db import connections

    from credits.services import bulk_cancellation_run, bulk_cancellation_start

    location = LocationFactory()
    customer = CustomerFactory(location=location)
    invoices = [issued_invoice(customer=customer) for _ in range(40)]
    bulk = bulk_cancellation_start(invoice_ids=[invoice.pk for invoice in invoices], actor=None)
    start = threading.Barrier(2)
    errors = []

    def runner():
        try:
            start.wait()
            bulk_cancellation_run(bulk_id=bulk.pk)
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    items = BulkCancellationItem.objects.filter(bulk=bulk)
    assert {item.outcome for item in items} == {BulkCancellationItem.Outcome.CANCELLED}
    notes = CreditNote.objects.filter(location=location)
    assert sorted(notes.values_list("sequence_number", flat=True)) == list(range(1, 41))
    assert BulkCancellation.objects.get(pk=bulk.pk).status == BulkCancellation.Status.DONE
    assert reconcile() == {name: [] for name in reconcile()}
