"""The transactional outbox: record each event with its change, dispatch it after commit.

``event_record`` is subscribed to every ``coworking.events`` type *in* the announcing
transaction (``webhooks.subscribers``) and writes one ``Event`` row with the next sequence
number of its invoice, in one statement; nothing else happens before commit (the body is not
rendered there: that would about triple the cancel's time, see docs/benchmarks.md). After commit the event is handed
to the broker; ``event_dispatch`` (a Celery task) renders its body once and creates its
deliveries. If the broker was down at commit, ``events_dispatch_missing`` (the beat sweep)
does it later. A rolled-back change leaves neither the row nor the task.

The body is rendered from the object as stored when the event is dispatched, normally
milliseconds after the commit. Cancelled invoices, credit notes and payments do not change
after their event (only a credit note's PDF status does), so their bodies are the state the
event reports; an ``invoice.issued`` dispatched late (broker down) may already show a later
payment. Receivers order the events of one invoice by ``sequence``.
"""

import datetime
import functools
import logging
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from coworking import events
from coworking.locking import lock_rows
from coworking.queue import enqueue
from webhooks.models import Delivery, Endpoint, Event, EventStream
from webhooks.payloads import EVENTS, render_body

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 500


@functools.cache
def _insert_sql() -> str:
    """One statement: take the invoice's next sequence number (its counter row stays locked
    until commit) and insert the event with it. The ORM cannot say ``INSERT ... ON CONFLICT
    DO UPDATE ... RETURNING`` feeding an ``INSERT ... SELECT``; the names come from the models."""
    stream, event = EventStream._meta, Event._meta
    invoice = stream.get_field("invoice").column
    last = stream.get_field("last_sequence").column
    columns = [
        event.get_field(name).column
        for name in ("id", "type", "invoice", "object_type", "object_id", "created_at")
    ]
    sequence = event.get_field("sequence").column
    body, version = event.get_field("body").column, event.get_field("api_version").column
    return (
        f"WITH stream AS (INSERT INTO {stream.db_table} ({invoice}, {last}) VALUES (%s, 1) "
        f"ON CONFLICT ({invoice}) DO UPDATE SET {last} = {stream.db_table}.{last} + 1 "
        f"RETURNING {last}) "
        f"INSERT INTO {event.db_table} ({', '.join(columns)}, {sequence}, {body}, {version}) "
        f"SELECT %s, %s, %s, %s, %s, %s, {last}, '', '' FROM stream"
    )


def _insert_portable(fields: dict) -> None:
    stream, created = EventStream.objects.get_or_create(
        invoice_id=fields["invoice_id"], defaults={"last_sequence": 1}
    )
    if not created:
        EventStream.objects.filter(pk=stream.pk).update(last_sequence=F("last_sequence") + 1)
        stream.refresh_from_db()
    Event.objects.create(**fields, sequence=stream.last_sequence)


def event_record(event: events.Event) -> uuid.UUID:
    """Write the outbox row of ``event`` in the current transaction; queue its dispatch for
    after the commit. Returns the event id (also the deliveries' ``webhook-id``)."""
    subject, _envelope = EVENTS[event.type]
    event_id = uuid.uuid4()
    invoice_id = subject.invoice_id_of(event.instance)
    fields = {
        "id": event_id,
        "type": event.type,
        "invoice_id": invoice_id,
        "object_type": subject.object_type,
        "object_id": event.instance.pk,
        "created_at": timezone.now(),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(), [invoice_id, *fields.values()])
    else:  # the embedded demo (SQLite): the same in two statements
        _insert_portable(fields)
    transaction.on_commit(lambda: queue_dispatch(event_id=event_id), robust=True)
    return event_id


def queue_dispatch(*, event_id: uuid.UUID) -> bool:
    """Hand the event to the broker; ``False`` (logged) if it is down: the sweep catches up."""
    return enqueue(
        "webhooks.dispatch_event", str(event_id), if_down="The webhooks sweep will dispatch it."
    )


def event_dispatch(*, event_id: uuid.UUID | str) -> list[int]:
    """Render the event's body (once) and create one pending delivery for each active
    endpoint that wants its type and existed when it happened; return their ids.

    Idempotent: an event already dispatched (or unknown) returns ``[]``. The event row is
    locked meanwhile, so a task and the sweep racing on one event dispatch it once.
    """
    now = timezone.now()
    with transaction.atomic():
        event = lock_rows(Event.objects.filter(pk=event_id)).first()
        if event is None or event.dispatched_at is not None:
            return []
        if not event.body:
            event.body = render_body(event=event)
            event.api_version = settings.WEBHOOKS_API_VERSION
        endpoints = Endpoint.objects.filter(is_active=True, created_at__lte=event.created_at)
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(event=event, endpoint=endpoint, next_attempt_at=now, queued_at=now)
                for endpoint in endpoints
                if endpoint.wants(event.type)
            ]
        )
        event.dispatched_at = now
        event.save(update_fields=["body", "api_version", "dispatched_at"])
    return [delivery.pk for delivery in deliveries]


def events_dispatch_missing(*, older_than: datetime.timedelta) -> list[int]:
    """The sweep's half for events: dispatch those still undispatched ``older_than`` after
    they happened (broker down at commit, lost task); return the new deliveries' ids."""
    cutoff = timezone.now() - older_than
    missing = Event.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
    created: list[int] = []
    for event_id in missing.order_by("created_at").values_list("pk", flat=True)[:DISPATCH_BATCH]:
        try:
            created += event_dispatch(event_id=event_id)
        except Exception:
            logger.exception("Dispatching webhook event %s failed; the sweep will retry.", event_id)
    return created
