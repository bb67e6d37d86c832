"""A bulk cancellation whose worker is killed (SIGKILL) mid-run resumes by itself.

Real processes: a Redis of the test's own as the broker, a ``celery worker`` process that
is killed part-way through a bulk of 90 invoices, then another worker with beat,
whose stale-run sweep queues the run again when its heartbeat stops. The run finishes with
what was still pending; every invoice is cancelled once; ``reconcile`` is clean. The broker's
visibility timeout (15 minutes) never comes into it. Every wait is bounded.
"""

import os
import signal
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from credits.models import BulkCancellation, BulkCancellationItem, CancellationEvent, CreditNote
from credits.reconciliation import reconcile
from credits.services import bulk_cancellation_start
from invoicing.models import Channel, Invoice
from tests.conftest import broker_unreachable, wait_until
from tests.factories import CustomerFactory, issued_invoice, staff_user
from tests.faults import RedisServer, database_url

pytestmark = pytest.mark.django_db(transaction=True)

INVOICES = 90
KILL_AFTER = 30  # items processed by the first worker
STALE_AFTER = 3  # seconds without heartbeat


@pytest.fixture
def broker(tmp_path):
    server = RedisServer(tmp_path).start()
    try:
        with broker_unreachable(server.url):  # the test publishes to its own Redis
            yield server
    finally:
        server.stop()


def worker_env(*, broker_url: str, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        DATABASE_URL=database_url(),
        REDIS_URL=broker_url,
        PRIVATE_DOCUMENTS_ROOT=str(tmp_path / "private"),
        BULK_CANCELLATION_STALE_AFTER=str(STALE_AFTER),
        BULK_CANCELLATION_SWEEP_EVERY="1",
    )
    return env


def worker_command(name: str, *extra: str) -> list[str]:
    # Only the bulk queue: the PDFs the cancels queue wait in Redis, unrendered.
    return ["celery", "-A", "config", "worker", "-Q", "bulk", "--pool=solo",
            "--loglevel=INFO", "-n", f"{name}@%h", *extra]  # fmt: skip


def test_a_bulk_whose_worker_is_killed_is_queued_again_by_beat_and_cancels_each_once(
    broker, processes, tmp_path
):
    customer = CustomerFactory()
    invoices = [issued_invoice(customer=customer) for _ in range(INVOICES)]
    bulk = bulk_cancellation_start(
        invoice_ids=[invoice.pk for invoice in invoices],
        actor=staff_user(),
        reason="Worker killed",
        channel=Channel.ADMIN_BULK,
    )
    items = BulkCancellationItem.objects.filter(bulk=bulk)
    pending = items.filter(outcome=BulkCancellationItem.Outcome.PENDING)
    env = worker_env(broker_url=broker.url, tmp_path=tmp_path)

    first = processes.start("worker-1", worker_command("first"), env)
    wait_until(lambda: INVOICES - pending.count() >= KILL_AFTER, timeout=120, interval=0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    left = pending.count()
    assert 0 < left < INVOICES, left
    bulk.refresh_from_db()
    assert bulk.status == BulkCancellation.Status.RUNNING  # stuck: nobody runs it

    second = processes.start(
        "worker-2", worker_command("second", "-B", "-s", str(tmp_path / "beat-schedule")), env
    )
    wait_until(
        lambda: BulkCancellation.objects.get(pk=bulk.pk).status == BulkCancellation.Status.DONE,
        timeout=180,
        interval=0.2,
    )
    processes.stop(second)

    log = processes.log("worker-2")
    assert f"Bulk cancellation {bulk.pk}: no heartbeat" in log  # the sweep brought it back
    assert items.filter(outcome=BulkCancellationItem.Outcome.CANCELLED).count() == INVOICES
    assert CreditNote.objects.filter(invoice__in=invoices).count() == INVOICES
    assert CancellationEvent.objects.filter(invoice__in=invoices).count() == INVOICES
    assert not Invoice.objects.filter(pk__in=[i.pk for i in invoices]).exclude(
        state=Invoice.State.CANCELLED
    )
    assert {name: found for name, found in reconcile().items() if found} == {}
    call_command("reconcile")
