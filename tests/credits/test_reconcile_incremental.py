"""``reconcile`` in windows and incrementally: a clean run records a checkpoint (the
highest ids it covered), a run that finds a breach does not; ``--incremental`` checks what
came after the newest checkpoint and still finds a breach on a new document; the full run
in windows of one invoice finds what the single pass finds; the beat runs both."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from books import reconciliation as books_reconciliation
from credits import ledger_reconciliation, reconciliation
from credits.models import ReconciliationCheckpoint
from credits.reconciliation import HIGH_WATER, reconcile, reconciliation_run
from credits.services import invoice_cancel
from credits.tasks import reconcile as reconcile_task
from invoicing.models import Channel
from tests.factories import issued_invoice

pytestmark = pytest.mark.django_db


def a_payment_behind_the_services_back(invoice) -> int:
    """5.00 paid on ``invoice`` on a ledger entry of 1.00, the invoice not updated: breaks
    the paid amounts, the ledger balance, the balance rows and the entry's source."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO coworking_ledgerentry (customer_id, kind, amount, amount_currency, "
            "description, document_number, document_date, created_at) "
            "VALUES (%s, 'payment', -1, 'EUR', 'x', %s, now(), now()) RETURNING id",
            [invoice.customer_id, invoice.number],
        )
        entry_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO invoicing_payment (invoice_id, amount, amount_currency, method, "
            "received_on, reference, created_at, ledger_entry_id) "
            "VALUES (%s, 5, 'EUR', 'cash', now(), '', now(), %s)",
            [invoice.pk, entry_id],
        )
    return entry_id


def breached(run) -> set[str]:
    return {name for name, breaches in run.results.items() if breaches}


def test_a_clean_run_records_where_it_stood_and_a_broken_one_does_not(database_breach):
    invoice_cancel(invoice=issued_invoice(), actor=None, channel=Channel.SYSTEM)
    assert reconciliation_run().clean
    checkpoint = ReconciliationCheckpoint.objects.get()
    assert not checkpoint.incremental
    assert checkpoint.positions == {
        name: model.objects.aggregate(high=Max("pk"))["high"] or 0
        for name, model in HIGH_WATER.items()
    }
    assert checkpoint.positions["journal_entry"] > 0  # the books' tables too
    a_payment_behind_the_services_back(issued_invoice())
    assert not reconciliation_run().clean
    assert not reconciliation_run(incremental=True).clean
    assert ReconciliationCheckpoint.objects.count() == 1


def test_incremental_finds_a_breach_on_a_new_document(capsys, database_breach):
    issued_invoice(paid="all")
    call_command("reconcile")
    new = issued_invoice()
    entry_id = a_payment_behind_the_services_back(new)
    with pytest.raises(CommandError, match="invariants are broken"):
        call_command("reconcile", "--incremental")
    out = capsys.readouterr().out
    assert "Incremental: what changed since the clean run started" in out
    assert f"Invoice {new.number}: paid 0.00 but its payments add up to 5.00" in out
    assert f"Ledger entry id {entry_id} (payment) does not record the document" in out
    assert "FAIL  balance rows = ledger sums" in out
    assert "FAIL  every money event is in the journal" in out


def test_incremental_reads_only_what_came_after_the_checkpoint(database_breach):
    old = issued_invoice()
    a_payment_behind_the_services_back(old)
    # A checkpoint past the broken rows, as if a clean run had covered them.
    ReconciliationCheckpoint.objects.create(
        started_at=timezone.now(),
        positions={
            name: model.objects.aggregate(high=Max("pk"))["high"] or 0
            for name, model in HIGH_WATER.items()
        },
    )
    issued_invoice(paid="all")  # another customer's, clean
    incremental = reconciliation_run(incremental=True)
    assert incremental.clean and incremental.since is not None
    assert ReconciliationCheckpoint.objects.first().incremental
    # The full run reads everything again and finds the old breach.
    assert "paid amounts = payments" in breached(reconciliation_run())


def test_incremental_without_a_checkpoint_checks_everything(capsys):
    issued_invoice()
    call_command("reconcile", "--incremental")
    out = capsys.readouterr().out
    assert "no clean run recorded yet, so everything is checked" in out
    assert ReconciliationCheckpoint.objects.get().incremental is False


def test_windows_of_one_invoice_find_what_one_pass_finds(monkeypatch, database_breach):
    invoices = [issued_invoice(paid="all") for _ in range(3)]
    invoice_cancel(invoice=invoices[1], actor=None, channel=Channel.SYSTEM)
    assert not any(reconcile().values())
    a_payment_behind_the_services_back(invoices[2])
    whole = reconcile()
    monkeypatch.setattr(reconciliation, "RECONCILE_WINDOW", 1)
    windowed = reconcile()
    assert {name: sorted(found) for name, found in windowed.items()} == {
        name: sorted(found) for name, found in whole.items()
    }
    (paid,) = windowed["paid amounts = payments"]
    assert paid.startswith(f"Invoice {invoices[2].number}: paid ")


def test_windows_of_one_customer_find_what_one_window_of_all_finds(monkeypatch, database_breach):
    invoices = [issued_invoice(paid="all") for _ in range(3)]
    invoice_cancel(invoice=invoices[0], actor=None, channel=Channel.SYSTEM)
    assert len({invoice.customer_id for invoice in invoices}) == 3
    a_payment_behind_the_services_back(invoices[1])
    whole = reconcile()
    for module in (ledger_reconciliation, reconciliation, books_reconciliation):
        monkeypatch.setattr(module, "CUSTOMER_WINDOW", 1)
    windowed = reconcile()
    assert windowed == whole
    (balance,) = windowed["balance rows = ledger sums"]
    assert balance.startswith(f"Customer id {invoices[1].customer_id} in EUR: balance row ")
    assert any(
        breach.startswith(f"Customer id {invoices[1].customer_id} in EUR: ledger balance ")
        for breach in windowed["ledger balance = invoices − payments − credit notes + refunds"]
    )


def test_the_beat_runs_it_nightly_and_weekly_and_the_task_says_whether_clean(database_breach):
    beat = settings.CELERY_BEAT_SCHEDULE
    assert beat["credits.reconcile_incremental"]["kwargs"] == {"incremental": True}
    assert beat["credits.reconcile_full"]["kwargs"] == {"incremental": False}
    issued_invoice()
    assert reconcile_task(incremental=False) is True
    a_payment_behind_the_services_back(issued_invoice())
    assert reconcile_task(incremental=True) is False
