"""Deliveries through the real Redis broker, a real Celery worker and a real receiver on
127.0.0.1 that verifies every signature with the ``standardwebhooks`` library."""

import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
import redis
from django.conf import settings
from django.utils import timezone

import credits.services.issue
from config.celery import app as celery_app
from coworking.events import EventType
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from tests.conftest import broker_unreachable, wait_until
from tests.factories import issued_invoice
from tests.webhook_receiver import HANG
from webhooks.delivery import delivery_send_again
from webhooks.models import Attempt, Delivery, Endpoint, Event
from webhooks.services import endpoint_rotate_secret
from webhooks.tasks import sweep


def cancelled_event(invoice=None) -> Event:
    """Cancel an invoice; return the outbox row of its ``invoice.cancelled``."""
    invoice = invoice or issued_invoice()
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    return Event.objects.get(invoice=invoice, type=EventType.INVOICE_CANCELLED)


def finished(event) -> Delivery:
    """Wait until the event's delivery is delivered or failed; return it."""
    return wait_until(
        lambda: (
            Delivery.objects.filter(event=event).exclude(status=Delivery.Status.PENDING).first()
        ),
        timeout=60,  # bounded, generous for a loaded CI machine
    )


def test_a_cancel_delivers_one_invoice_cancelled_and_one_credit_note_issued(
    celery_worker, receiver, endpoint_for
):
    endpoint_for(EventType.INVOICE_CANCELLED, EventType.CREDIT_NOTE_ISSUED)
    event = cancelled_event()
    note_event = Event.objects.get(invoice=event.invoice_id, type=EventType.CREDIT_NOTE_ISSUED)

    for each in (event, note_event):
        assert finished(each).status == Delivery.Status.DELIVERED
    cancelled, issued = (
        receiver.of_type("invoice.cancelled"),
        receiver.of_type("credit_note.issued"),
    )
    assert [item.webhook_id for item in cancelled] == [str(event.pk)]
    assert [item.webhook_id for item in issued] == [str(note_event.pk)]
    assert all(item.verified for item in receiver.received)
    got = cancelled[0]
    assert got.body["id"] == str(event.pk) and got.body["data"]["state"] == "cancelled"
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["content-type"] == "application/json"
    assert issued[0].body["data"]["invoice"] == event.invoice_id
    assert issued[0].body["sequence"] == got.body["sequence"] + 1  # announced in that order
    (attempt,) = Delivery.objects.get(event=event).attempts.all()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)
    assert attempt.duration_ms is not None and attempt.response_excerpt == "answer 200"


def test_a_cancel_rolled_back_after_announcing_stores_and_sends_nothing(
    celery_worker, receiver, endpoint_for, monkeypatch
):
    invoice = issued_invoice()  # its invoice.issued predates the endpoint: not sent
    endpoint_for(*EventType.values)
    real_announce = credits.services.issue.announce

    def announce_then_fail(**kwargs):
        real_announce(**kwargs)
        if kwargs["type"] == EventType.CREDIT_NOTE_ISSUED:
            raise RuntimeError("forced rollback after both events were written")

    monkeypatch.setattr(credits.services.issue, "announce", announce_then_fail)
    with pytest.raises(RuntimeError):
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    monkeypatch.undo()

    marker = cancelled_event()  # queued behind anything the rollback could have queued
    finished(marker)
    assert list(Event.objects.filter(invoice=invoice).values_list("type", flat=True)) == [
        EventType.INVOICE_ISSUED
    ]
    assert Invoice.objects.get(pk=invoice.pk).state == Invoice.State.ISSUED
    assert {item.body["invoice_id"] for item in receiver.received} == {marker.invoice_id}


def test_500_twice_then_200_is_delivered_on_the_third_attempt(celery_worker, receiver, endpoint):
    receiver.script = [500, 500]
    event = cancelled_event()

    delivery = finished(event)
    assert delivery.status == Delivery.Status.DELIVERED
    attempts = list(delivery.attempts.values_list("number", "status_code", "succeeded"))
    assert attempts == [(1, 500, False), (2, 500, False), (3, 200, True)]
    assert receiver.ids("invoice.cancelled") == {str(event.pk)}  # one id on every retry
    assert len(receiver.of_type("invoice.cancelled")) == 3
    assert all(got.verified for got in receiver.received)
    first, last = delivery.attempts.first(), delivery.attempts.last()
    assert first.error == "HTTP 500" and (last.started_at - first.started_at).total_seconds() >= 0.4


def test_retries_end_in_failed_and_send_again_delivers(
    celery_worker, receiver, endpoint, webhook_settings
):
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = (0.1, 0.1)
    receiver.default = 503
    event = cancelled_event()

    delivery = finished(event)
    assert delivery.status == Delivery.Status.FAILED and delivery.attempt_count == 3
    assert delivery.last_status_code == 503

    receiver.default = 204
    delivery_send_again(delivery=delivery)
    delivery = finished(event)
    assert delivery.status == Delivery.Status.DELIVERED
    assert list(delivery.attempts.values_list("status_code", flat=True)) == [503, 503, 503, 204]
    assert receiver.ids() == {str(event.pk)}


def test_redirects_are_not_followed(celery_worker, receiver, endpoint, webhook_settings):
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = ()
    receiver.default = 302
    event = cancelled_event()

    delivery = finished(event)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts.get().error == "HTTP 302"
    assert len(receiver.received) == 1  # nothing went to the Location


def test_broker_down_at_commit_the_sweep_delivers_once_it_is_back(
    transactional_db, receiver, endpoint, webhook_settings, request
):
    invoice = issued_invoice()
    with broker_unreachable():
        started = time.monotonic()
        event = cancelled_event(invoice)
        assert time.monotonic() - started < 5  # the commit does not hang on the broker

    event.refresh_from_db()
    assert event.dispatched_at is None and not Delivery.objects.filter(event=event).exists()

    webhook_settings.WEBHOOKS_SWEEP_AFTER = 0  # as if the minute had passed
    request.getfixturevalue("celery_worker")
    sweep.delay()  # what Celery beat sends every 30 seconds

    assert finished(event).status == Delivery.Status.DELIVERED
    assert receiver.ids("invoice.cancelled") == {str(event.pk)}


def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_delivered_with_its_id(
    transactional_db, receiver, endpoint, webhook_settings, request
):
    """A separate worker process gets the delivery; the receiver holds the request; the
    process is killed (SIGKILL). Once its lease has run out, the sweep queues the delivery
    again and another worker delivers it with the same webhook-id."""
    receiver.script = [HANG]
    webhook_settings.WEBHOOKS_TIMEOUT = 3
    webhook_settings.WEBHOOKS_LEASE_MARGIN = 1
    # Drop what earlier tests on this xdist worker queued (their PDFs, their events): the
    # worker process would run it all before the delivery under test. The ``celery_worker``
    # fixture purges for the same reason.
    celery_app.control.purge()
    event = cancelled_event()  # queued; no worker yet

    database = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "WEBHOOKS_ALLOW_LOOPBACK": "1",
        "WEBHOOKS_REQUIRE_HTTPS": "0",
        "WEBHOOKS_TIMEOUT": "3",
        "WEBHOOKS_LEASE_MARGIN": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: receiver.received, timeout=120)  # a worker process starting up
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(timeout=10)

    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.Status.PENDING and delivery.leased_until is not None
    wait_until(lambda: delivery.leased_until < timezone.now(), timeout=10)

    request.getfixturevalue("celery_worker")
    sweep.delay()

    assert finished(event).status == Delivery.Status.DELIVERED
    got = receiver.of_type("invoice.cancelled")
    assert [item.webhook_id for item in got] == [str(event.pk)] * 2
    assert all(item.verified for item in got)
    first, second = Attempt.objects.filter(delivery=delivery).order_by("number")
    assert first.finished_at is None and first.error.startswith("Interrupted")
    assert (second.number, second.status_code) == (2, 200)
    # The killed worker's message is still unacknowledged in Redis (late ack): the broker
    # would hand it out again after its visibility timeout, harmlessly; drop it here.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index")


def test_rotated_secret_both_sign_during_the_overlap(celery_worker, receiver, endpoint):
    old_secret = receiver.secrets[:]
    new_secret = endpoint_rotate_secret(endpoint=endpoint)
    receiver.secrets = old_secret  # a receiver that has not switched yet
    first = cancelled_event()
    finished(first)
    receiver.secrets = [new_secret]  # one that has
    second = cancelled_event()
    finished(second)

    got = receiver.received
    assert [item.verified for item in got] == [True, True]
    assert all(len(item.headers["webhook-signature"].split(" ")) == 2 for item in got)

    endpoint_rotate_secret(endpoint=endpoint, overlap=datetime.timedelta(0))
    receiver.secrets = [new_secret]  # the secret before the last rotation: no longer signs
    third = cancelled_event()
    finished(third)
    assert receiver.received[-1].verified is False
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 1


def test_an_endpoint_failing_long_enough_is_disabled(
    celery_worker, receiver, endpoint, webhook_settings
):
    webhook_settings.WEBHOOKS_DISABLE_AFTER = 0.3
    receiver.default = 500
    event = cancelled_event()

    endpoint = wait_until(lambda: Endpoint.objects.filter(pk=endpoint.pk, is_active=False).first())
    assert endpoint.disabled_at is not None and endpoint.failing_since < endpoint.disabled_at
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == Delivery.Status.PENDING  # waits for the endpoint to come back
    attempts = delivery.attempt_count
    time.sleep(0.5)
    assert Delivery.objects.get(pk=delivery.pk).attempt_count == attempts  # nothing sent


def test_an_address_that_turned_private_is_refused_at_send_time(
    celery_worker, receiver, endpoint, webhook_settings
):
    """Saved while loopback was allowed (as a name could resolve to a public address when
    saved and to a private one later): the re-check before sending refuses it."""
    webhook_settings.WEBHOOKS_ALLOW_LOOPBACK = False
    webhook_settings.WEBHOOKS_RETRY_SCHEDULE = ()
    event = cancelled_event()

    delivery = finished(event)
    assert delivery.status == Delivery.Status.FAILED
    attempt = delivery.attempts.get()
    assert attempt.status_code is None and "loopback" in attempt.error
    assert receiver.received == []


def test_a_slow_receiver_times_out_and_a_huge_answer_is_read_only_up_to_the_cap(
    celery_worker, receiver, endpoint, webhook_settings
):
    webhook_settings.WEBHOOKS_TIMEOUT = 0.5
    receiver.script = [HANG]  # the first request gets no answer in time
    receiver.answer_body = b"x" * (5 * 1024 * 1024)  # then 5 MiB of answer
    event = cancelled_event()

    delivery = finished(event)
    receiver.release()
    assert delivery.status == Delivery.Status.DELIVERED
    timed_out, answered = delivery.attempts.all()
    assert timed_out.status_code is None and "timed out" in timed_out.error.lower()
    assert timed_out.duration_ms < 3000
    assert answered.status_code == 200
    assert answered.response_excerpt == "x" * settings.WEBHOOKS_RESPONSE_EXCERPT_BYTES
