"""A burst of concurrent cancels: every event written once with its change and delivered,
the receiver sees each id once, and the books still reconcile."""

from coworking import events
from coworking.documents.kinds import DocumentKind
from coworking.events import EventType
from credits.reconciliation import reconcile
from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.concurrency import run_in_threads
from tests.conftest import wait_until
from tests.factories import CustomerFactory, issued_invoice
from webhooks.models import Delivery, Event

CANCELS = 100
TYPES = (EventType.INVOICE_CANCELLED, EventType.CREDIT_NOTE_ISSUED)


def test_100_concurrent_cancels_deliver_100_events_of_each_type(
    transactional_db, receiver, endpoint_for, request, monkeypatch
):
    # PDF rendering is not what this test is about: keep the worker on webhooks. No
    # document queues its PDF (the cancel queues the credit note's itself, after commit:
    # the worker rendered them all between the deliveries).
    issued = EventType.CREDIT_NOTE_ISSUED
    monkeypatch.setitem(
        events._subscribers, issued, [h for h in events._subscribers[issued] if h[1]]
    )
    monkeypatch.setattr(DocumentKind, "queue_pdf", lambda self, *, document_id: None)
    customers = [CustomerFactory() for _ in range(4)]  # four locations, four counters
    invoices = [issued_invoice(customer=customers[i % 4]) for i in range(CANCELS)]
    endpoint_for(*TYPES)
    request.getfixturevalue("celery_worker")  # purges the seed's dispatches, then consumes

    results = run_in_threads(
        [
            lambda invoice=invoice: invoice_cancel(
                invoice=invoice, actor=None, channel=Channel.ADMIN_BULK
            )
            for invoice in invoices
        ],
        threads=8,
    )
    assert [r for r in results if isinstance(r, Exception)] == []

    for event_type in TYPES:
        assert Event.objects.filter(type=event_type).count() == CANCELS
        wait_until(lambda t=event_type: len(receiver.ids(t)) == CANCELS, timeout=180)
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 2 * CANCELS,
        timeout=30,
    )
    for event_type in TYPES:
        got = receiver.of_type(event_type)
        assert len(got) == CANCELS  # each id once: no retries were needed, none duplicated
        assert {item.webhook_id for item in got} == {
            str(pk) for pk in Event.objects.filter(type=event_type).values_list("pk", flat=True)
        }
        assert all(item.verified for item in got)
    assert {k: v for k, v in reconcile().items() if v} == {}
