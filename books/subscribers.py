"""What the books do when money moves (``coworking.events``); registered by
``BooksConfig.ready()``. Each entry is posted *in* the announcing transaction, so an event
and its entry commit together or not at all."""

from books.services import post_credit_note, post_invoice, post_payment, post_refund
from coworking.events import Event, EventType, InternalEventType, subscribe


@subscribe(EventType.INVOICE_ISSUED, in_transaction=True)
def invoice_issued(event: Event) -> None:
    post_invoice(invoice=event.instance)


@subscribe(EventType.PAYMENT_RECORDED, in_transaction=True)
def payment_recorded(event: Event) -> None:
    post_payment(payment=event.instance)


@subscribe(EventType.CREDIT_NOTE_ISSUED, in_transaction=True)
def credit_note_issued(event: Event) -> None:
    post_credit_note(credit_note=event.instance)


@subscribe(InternalEventType.REFUND_RECORDED, in_transaction=True)
def refund_recorded(event: Event) -> None:
    post_refund(refund=event.instance)
