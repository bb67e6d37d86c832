"""The outbox: an event row exists if and only if its change committed; sequences increase
per invoice under concurrency; the body is the API's representation in an envelope."""

import json

import pytest
from django.db import transaction

from coworking.events import EventType, announce
from tests.concurrency import run_in_threads
from tests.factories import issued_invoice, staff_user
from webhooks.models import Delivery, Event, EventStream
from webhooks.outbox import event_dispatch
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db(transaction=True)


def events_of(invoice, event_type=EventType.INVOICE_CANCELLED):
    return list(Event.objects.filter(invoice=invoice, type=event_type).order_by("sequence"))


def test_an_event_is_stored_with_its_change_and_not_without_it():
    invoice = issued_invoice()
    with transaction.atomic():
        announce(type=EventType.INVOICE_CANCELLED, instance=invoice)
    with pytest.raises(RuntimeError), transaction.atomic():
        announce(type=EventType.INVOICE_CANCELLED, instance=invoice)
        raise RuntimeError("the change failed after announcing")

    (event,) = events_of(invoice)
    assert (event.object_type, event.object_id, event.invoice_id) == (
        "invoice",
        invoice.pk,
        invoice.pk,
    )
    assert event.body == "" and event.dispatched_at is None  # rendered after commit
    stream = EventStream.objects.get(invoice=invoice)
    assert stream.last_sequence == event.sequence  # the rolled-back one took no number


def test_sequences_count_up_per_invoice():
    first, second = issued_invoice(), issued_invoice()
    for invoice in (first, second, first, first, second):
        with transaction.atomic():
            announce(type=EventType.INVOICE_CANCELLED, instance=invoice)
    for invoice in (first, second):
        sequences = list(
            Event.objects.filter(invoice=invoice)
            .order_by("created_at")
            .values_list("sequence", flat=True)
        )
        assert sequences == list(range(1, len(sequences) + 1))


def test_concurrent_events_of_one_invoice_get_distinct_consecutive_sequences():
    invoice = issued_invoice()
    already = Event.objects.filter(invoice=invoice).count()

    def announce_one():
        # invoice.cancelled: the books post an invoice's issue once (one entry per source)
        # and do not listen to this one.
        with transaction.atomic():
            announce(type=EventType.INVOICE_CANCELLED, instance=invoice)

    results = run_in_threads([announce_one] * 200, threads=8)
    assert [r for r in results if isinstance(r, Exception)] == []
    sequences = sorted(Event.objects.filter(invoice=invoice).values_list("sequence", flat=True))
    assert sequences == list(range(1, already + 201))


def test_dispatch_renders_the_api_representation_once_and_fans_out(client):
    wants_cancels, _secret = endpoint_create(
        url="https://93.184.216.34/hooks", event_types=[EventType.INVOICE_CANCELLED]
    )
    endpoint_create(url="https://93.184.216.34/other", event_types=[EventType.PAYMENT_RECORDED])
    endpoint_create(url="https://93.184.216.34/off", event_types=EventType.values, is_active=False)
    invoice = issued_invoice()
    with transaction.atomic():
        announce(type=EventType.INVOICE_CANCELLED, instance=invoice)
    (event,) = events_of(invoice)

    created = event_dispatch(event_id=event.pk)
    assert event_dispatch(event_id=event.pk) == []  # idempotent: dispatched once

    (delivery,) = Delivery.objects.filter(pk__in=created)
    assert delivery.endpoint == wants_cancels and delivery.status == Delivery.Status.PENDING
    event.refresh_from_db()
    body = json.loads(event.body)
    assert body["id"] == str(event.pk) and body["type"] == "invoice.cancelled"
    assert (body["invoice_id"], body["sequence"]) == (invoice.pk, event.sequence)
    assert body["api_version"] == "1.0.0" and body["timestamp"]

    client.force_login(staff_user())
    api = client.get(f"/api/v1/invoices/{invoice.pk}").json()
    as_api = json.loads(json.dumps(api).replace("http://testserver", ""))
    assert body["data"] == as_api  # the API's representation (URLs relative to its host)
