"""The services issue exactly what a confirmation showed: ``credit_note_issue`` and
``invoice_cancel`` given ``as_shown`` compare it, under the invoice's lock, with what they
would issue now, and refuse (``confirmation_outdated``, nothing written) when it differs —
also when the payment lands at the same moment, on real threads, either one first."""

import queue
import threading
from decimal import Decimal

import pytest
from django.db import transaction
from djmoney.money import Money

from coworking.models import LedgerEntry
from credits.errors import ConfirmationOutdated
from credits.models import CreditNote, Refund
from credits.selectors import invoice_figures
from credits.services import (
    Allocation,
    LineCredit,
    Rest,
    credit_note_issue,
    credit_note_preview,
    invoice_cancel,
)
from invoicing.models import Channel, Invoice, Payment
from invoicing.services import payment_record
from tests.concurrency import backend_pid, run_in_threads, waits_for_a_lock
from tests.conftest import wait_until
from tests.factories import issued_invoice

pytestmark = pytest.mark.reconciled


def eur(value: str) -> Money:
    return Money(Decimal(value), "EUR")


def partial_refund(invoice):
    return {
        "lines": [LineCredit(invoice.lines.get().pk, Decimal("1"))],
        "allocation": Allocation(rest=Rest.REFUND),
        "actor": None,
        "channel": Channel.CLI,
    }


@pytest.mark.django_db
def test_a_credit_note_is_refused_when_a_payment_changed_what_it_would_refund():
    invoice = issued_invoice(specs=[("Meeting room", "1", "100.00", "21")])
    shown = credit_note_preview(invoice=invoice, **partial_refund(invoice)).figures
    assert shown["refund"] == "0.00"
    payment_record(invoice=invoice, amount=eur("60.50"))

    with pytest.raises(ConfirmationOutdated) as refused:
        credit_note_issue(invoice=invoice.pk, **partial_refund(invoice), as_shown=shown)

    assert refused.value.code == "confirmation_outdated"
    assert "paid €0.00 → €60.50" in refused.value.changes
    assert "refund €0.00 → €60.50" in refused.value.changes
    assert not CreditNote.objects.exists() and not Refund.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CREDIT_NOTE).exists()
    invoice.refresh_from_db()  # the confirmation shown again, computed from the invoice now
    note = credit_note_issue(
        invoice=invoice.pk,
        **partial_refund(invoice),
        as_shown=credit_note_preview(invoice=invoice, **partial_refund(invoice)).figures,
    )
    assert note.refund_amount == eur("60.50")


@pytest.mark.django_db
def test_a_cancel_is_refused_when_the_invoice_changed_since_it_was_shown():
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "21")])
    shown = invoice_figures(invoice=invoice)
    payment_record(invoice=invoice, amount=eur("21.00"))

    with pytest.raises(ConfirmationOutdated) as refused:
        invoice_cancel(invoice=invoice.pk, actor=None, channel=Channel.CLI, as_shown=shown)

    assert "paid €0.00 → €21.00" in refused.value.changes
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID and not CreditNote.objects.exists()
    invoice_cancel(
        invoice=invoice.pk,
        actor=None,
        channel=Channel.CLI,
        as_shown=invoice_figures(invoice=invoice),
    )
    assert CreditNote.objects.get().account_credit_amount == eur("21.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["continue", "payment"])
def test_a_payment_racing_continue_never_yields_a_refund_the_page_did_not_show(first):
    """Continue (nothing refunded, as the page showed) and a payment at the same moment,
    each one holding the invoice's lock first in turn while the other waits for it: Continue
    after the payment is refused, a payment after Continue finds nothing due; never a
    refund."""
    invoice = issued_invoice(specs=[("Meeting room", "1", "100.00", "21")])
    shown = credit_note_preview(invoice=invoice, **partial_refund(invoice)).figures

    def issue():
        return credit_note_issue(invoice=invoice.pk, **partial_refund(invoice), as_shown=shown)

    def pay():
        return payment_record(invoice=invoice, amount=eur("60.50"))

    holder, waiter = (issue, pay) if first == "continue" else (pay, issue)
    held, waiting = threading.Event(), queue.Queue()

    def hold():
        with transaction.atomic():  # commits once the other waits for the invoice's lock
            result = holder()
            held.set()
            pid = waiting.get(timeout=30)
            wait_until(lambda: waits_for_a_lock(pid), timeout=30)
        return result

    def wait():
        waiting.put(backend_pid())
        assert held.wait(timeout=30)
        return waiter()

    first_result, second_result = run_in_threads([hold, wait], threads=2)
    note, payment = (
        (first_result, second_result) if first == "continue" else (second_result, first_result)
    )
    if first == "continue":
        assert isinstance(note, CreditNote), note
        assert note.refund_amount == eur("0.00") and note.amount_off_due == eur("121.00")
        assert not isinstance(payment, Payment)  # nothing is due any more
    else:
        assert isinstance(payment, Payment), payment
        assert isinstance(note, ConfirmationOutdated), note
        assert "refund €0.00 → €60.50" in note.changes
    assert not Refund.objects.exists()
