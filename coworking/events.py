"""The one seam where services announce what happened, and where everything that reacts to it
subscribes.

A service calls ``announce`` inside its own transaction, once the change is written.
Subscribers registered with ``in_transaction=True`` run at once, in that transaction: the
webhook outbox writes its row there, so an event exists if and only if its change committed.
All other subscribers run after commit (queue a PDF, send an e-mail), each one isolated
(``transaction.on_commit(robust=True)``): a failing subscriber is logged and neither undoes the
change nor stops the others; a rolled-back change runs none of them.

Apps subscribe from their ``AppConfig.ready()``, so the dependency runs from the subscriber to
the service that announces, never the other way round (Saleor's ``events.py`` feeding one
dispatcher is the model).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, update_wrapper
from typing import Any

from django.db import models, transaction


class EventType(models.TextChoices):
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_CANCELLED = "invoice.cancelled"
    CREDIT_NOTE_ISSUED = "credit_note.issued"
    CREDIT_NOTE_PDF_READY = "credit_note.pdf_ready"
    PAYMENT_RECORDED = "payment.recorded"


class InternalEventType(models.TextChoices):
    """Events told to in-process subscribers only (the books), never published as
    webhooks."""

    REFUND_RECORDED = "refund.recorded"
    # About to take its number, everything else decided (its row is saved after the number):
    # work that does not need the number is done here, before the counter row is locked.
    INVOICE_ISSUING = "invoice.issuing"
    # Written in full but for its number, which it takes next: the same.
    CREDIT_NOTE_WRITTEN = "credit_note.written"


def _known() -> set[str]:
    return set(EventType.values) | set(InternalEventType.values)


@dataclass(frozen=True)
class Event:
    """What happened (``type``), to which object (``instance``: the model instance the event
    is about), by whom and through which channel."""

    type: str
    instance: Any
    actor: Any = None
    channel: str = ""


Handler = Callable[[Event], None]

_subscribers: dict[str, list[tuple[Handler, bool]]] = defaultdict(list)


def subscribe(*types: str, in_transaction: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated ``handler(event)`` for the given event types.

    ``in_transaction=True`` runs it inside the announcing transaction (its failure rolls the
    change back); otherwise it runs after commit and its failure is only logged.
    """
    unknown = set(types) - _known()
    if unknown:
        raise ValueError(f"Unknown event types: {sorted(unknown)}")

    def register(handler: Handler) -> Handler:
        for event_type in types:
            if (handler, in_transaction) not in _subscribers[event_type]:
                _subscribers[event_type].append((handler, in_transaction))
        return handler

    return register


def announce(*, type: str, instance: Any, actor: Any = None, channel: str = "") -> Event:
    """Tell the subscribers of ``type`` that it happened to ``instance``; call it inside the
    transaction that made the change."""
    if type not in _known():
        raise ValueError(f"Unknown event type: {type}")
    event = Event(type=type, instance=instance, actor=actor, channel=channel)
    for handler, in_transaction in _subscribers[type]:
        if in_transaction:
            handler(event)
        else:
            # update_wrapper: Django's robust on_commit logs a failure by __qualname__.
            transaction.on_commit(update_wrapper(partial(handler, event), handler), robust=True)
    return event
