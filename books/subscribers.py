"""What the books do when money moves (``coworking.events``); registered by
``BooksConfig.ready()``. Each entry is posted *in* the announcing transaction, so an event
and its entry commit together or not at all.

A credit note's entry is worked out when the note is written (``credit_note.written``),
before it takes its number, and only numbered and written once it is issued: the reads
and the work stay out of the location's serial section, which holds the three statements
of the write. The prepared entry waits here, keyed by the note instance the service
announces both times (weakly: a rolled-back issue leaves nothing behind)."""

from weakref import WeakKeyDictionary

from books.posting import Prepared
from books.services import (
    credit_note_prepare,
    credit_note_write,
    post_credit_note,
    post_invoice,
    post_payment,
    post_refund,
)
from coworking.events import Event, EventType, InternalEventType, subscribe

_prepared: WeakKeyDictionary = WeakKeyDictionary()


@subscribe(EventType.INVOICE_ISSUED, in_transaction=True)
def invoice_issued(event: Event) -> None:
    post_invoice(invoice=event.instance)


@subscribe(EventType.PAYMENT_RECORDED, in_transaction=True)
def payment_recorded(event: Event) -> None:
    post_payment(payment=event.instance)


@subscribe(InternalEventType.CREDIT_NOTE_WRITTEN, in_transaction=True)
def credit_note_written(event: Event) -> None:
    _prepared[event.instance] = (credit_note_prepare(credit_note=event.instance),)


@subscribe(EventType.CREDIT_NOTE_ISSUED, in_transaction=True)
def credit_note_issued(event: Event) -> None:
    found: tuple[Prepared | None] | None = _prepared.pop(event.instance, None)
    if found is None:  # announced without ``credit_note.written``: all of it now
        post_credit_note(credit_note=event.instance)
    else:
        credit_note_write(credit_note=event.instance, prepared=found[0])


@subscribe(InternalEventType.REFUND_RECORDED, in_transaction=True)
def refund_recorded(event: Event) -> None:
    post_refund(refund=event.instance)
