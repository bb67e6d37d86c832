"""What the books do when money moves (``coworking.events``); registered by
``BooksConfig.ready()``. Each entry is posted *in* the announcing transaction, so an event
and its entry commit together or not at all.

The sales entry of an invoice or a credit note is worked out before the document takes its
number (``invoice.issuing``, ``credit_note.written``), and only numbered and written once
it is issued: the reads and the work stay out of the location's serial section, which
holds the three statements of the write. The prepared entry waits here, keyed by the
document instance the service announces both times (weakly: a rolled-back issue leaves
nothing behind)."""

from weakref import WeakKeyDictionary, ref

from books.posting import Prepared
from books.services import (
    credit_note_prepare,
    credit_note_write,
    invoice_prepare,
    invoice_write,
    post_credit_note,
    post_invoice,
    post_payment,
    post_refund,
)
from coworking.events import Event, EventType, InternalEventType, subscribe

_prepared: WeakKeyDictionary = WeakKeyDictionary()


def _keep(instance, prepared: Prepared | None) -> None:
    _prepared[instance] = (ref(instance), prepared)


def _take(instance) -> tuple[Prepared | None] | None:
    """What was prepared for this very instance (not another of the same row: the key
    compares by primary key), or ``None``."""
    found = _prepared.pop(instance, None)
    if found is None or found[0]() is not instance:
        return None
    return (found[1],)


@subscribe(InternalEventType.INVOICE_ISSUING, in_transaction=True)
def invoice_issuing(event: Event) -> None:
    _keep(event.instance, invoice_prepare(invoice=event.instance))


@subscribe(EventType.INVOICE_ISSUED, in_transaction=True)
def invoice_issued(event: Event) -> None:
    found = _take(event.instance)
    if found is None:  # announced without ``invoice.issuing``: all of it now
        post_invoice(invoice=event.instance)
    else:
        invoice_write(invoice=event.instance, prepared=found[0])


@subscribe(EventType.PAYMENT_RECORDED, in_transaction=True)
def payment_recorded(event: Event) -> None:
    post_payment(payment=event.instance)


@subscribe(InternalEventType.CREDIT_NOTE_WRITTEN, in_transaction=True)
def credit_note_written(event: Event) -> None:
    _keep(event.instance, credit_note_prepare(credit_note=event.instance))


@subscribe(EventType.CREDIT_NOTE_ISSUED, in_transaction=True)
def credit_note_issued(event: Event) -> None:
    found = _take(event.instance)
    if found is None:  # announced without ``credit_note.written``: all of it now
        post_credit_note(credit_note=event.instance)
    else:
        credit_note_write(credit_note=event.instance, prepared=found[0])


@subscribe(InternalEventType.REFUND_RECORDED, in_transaction=True)
def refund_recorded(event: Event) -> None:
    post_refund(refund=event.instance)
