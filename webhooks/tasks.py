"""Celery tasks of webhooks, treated as an API: they take ids and call the services.

- ``dispatch_event`` is queued after an event's transaction commits: it renders the body and
  creates one delivery per subscribed endpoint, then queues them.
- ``deliver`` makes one attempt of one delivery and queues the retry when it is near; late
  acknowledgement (settings) means a lost worker's message is redelivered by the broker,
  and the sweep does not wait for that.
- ``sweep`` (Celery beat, every ``WEBHOOKS_SWEEP_INTERVAL`` seconds) dispatches events never
  queued (broker down at commit) and queues deliveries that are due and in nobody's hands.
"""

import datetime
import logging

from celery import shared_task
from django.conf import settings

from webhooks import delivery, outbox

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.dispatch_event", acks_late=True, reject_on_worker_lost=True)
def dispatch_event(event_id: str) -> int:
    """Dispatch one event (idempotent) and queue its deliveries; return how many."""
    created = outbox.event_dispatch(event_id=event_id)
    return delivery.queue_deliveries(delivery_ids=created)


@shared_task(name="webhooks.deliver", acks_late=True, reject_on_worker_lost=False)
def deliver(delivery_id: int) -> None:
    """One attempt of one delivery; nothing happens if it is not due or another worker
    has it."""
    retry_in = delivery.delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        delivery.queue_deliveries(delivery_ids=[delivery_id], countdown=retry_in)


@shared_task(name="webhooks.sweep")
def sweep() -> dict:
    """Catch up with what the broker lost or never got."""
    after = datetime.timedelta(seconds=settings.WEBHOOKS_SWEEP_AFTER)
    created = outbox.events_dispatch_missing(older_than=after)
    queued = delivery.queue_deliveries(delivery_ids=created) + delivery.deliveries_queue_due()
    if created or queued:
        logger.info("Webhook sweep: %s deliveries created, %s queued.", len(created), queued)
    return {"created": len(created), "queued": queued}
