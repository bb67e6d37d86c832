"""What webhooks does when something happened (``coworking.events``); registered by
``WebhooksConfig.ready()``.

Every event type is written to the outbox *in* the announcing transaction, so an event
exists if and only if its change committed (``webhooks.outbox``).
"""

from coworking.events import EventType, subscribe
from webhooks.outbox import event_record

subscribe(*EventType.values, in_transaction=True)(event_record)
