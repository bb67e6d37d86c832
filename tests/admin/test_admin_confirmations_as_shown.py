"""Continue issues exactly what the confirmation page showed: a payment (or a credit note)
recorded by someone else between the page and Continue changes what would be issued, so
nothing is issued and the recomputed confirmation is shown again, saying what changed. For
the partial credit note page, the single cancel and the bulk cancel (in the request and in
the background)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

import credits.services.bulk
from credits.models import BulkCancellation, CreditNote, Refund
from credits.services import bulk_cancellation_run
from invoicing.models import Invoice
from invoicing.services import payment_record
from tests.conftest import hidden_inputs
from tests.factories import CustomerFactory, issued_invoice, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.reconciled]

CHANGELIST = reverse("admin:invoicing_invoice_changelist")


def eur(value: str) -> Money:
    return Money(Decimal(value), "EUR")


def page_messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


@pytest.fixture
def staff(client):
    user = staff_user(cancel=True, credit=True)
    client.force_login(user)
    return user


@pytest.fixture
def invoice():
    return issued_invoice(
        customer=CustomerFactory(), specs=[("Meeting room", "1", "100.00", "21")]
    )  # 121.00, nothing paid


def credit_form(invoice, **fields):
    line = invoice.lines.get()
    return {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-invoice_line": str(line.pk),
        "form-0-quantity": "1",
        "reason_code": "service_not_used",
        "reason": "Room not available",
        "excess": "refund",
        "amount": "",
        "tax_rate": "",
        "description": "",
        **fields,
    }


def test_a_partial_credit_refunds_only_what_its_confirmation_showed(client, staff, invoice):
    url = reverse("admin:invoicing_invoice_issue_credit_note", args=[invoice.pk])
    confirmation = client.post(url, credit_form(invoice))
    shown = confirmation.context["preview"].credit_note
    assert (shown.amount_off_due, shown.refund_amount) == (eur("121.00"), eur("0.00"))

    # Staff B records the customer's transfer while A reads the page.
    payment_record(invoice=invoice, amount=eur("60.50"), reference="TRX-1")
    again = client.post(url, hidden_inputs(confirmation.content.decode()))

    assert again.status_code == 200
    assert not CreditNote.objects.exists() and not Refund.objects.exists()
    recomputed = again.context["preview"].credit_note
    assert (recomputed.amount_off_due, recomputed.refund_amount) == (eur("60.50"), eur("60.50"))
    text = page_messages(again)
    assert "changed since this confirmation was shown" in text
    assert "paid €0.00 → €60.50" in text and "refund €0.00 → €60.50" in text

    # Continue on the recomputed page issues what it now shows.
    issued = client.post(url, hidden_inputs(again.content.decode()))
    assert issued.status_code == 302
    note = CreditNote.objects.get()
    assert (note.amount_off_due, note.refund_amount) == (eur("60.50"), eur("60.50"))


def test_a_single_cancel_does_not_cancel_what_changed_after_its_confirmation(
    client, staff, invoice
):
    url = reverse("admin:invoicing_invoice_cancel", args=[invoice.pk])
    confirmation = client.get(url)
    assert confirmation.context["preview"].paid_count == 0

    payment_record(invoice=invoice, amount=eur("60.50"), reference="TRX-1")
    again = client.post(url, hidden_inputs(confirmation.content.decode()))

    assert again.status_code == 200
    assert not CreditNote.objects.exists()
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID
    assert again.context["preview"].to_account_credit == [eur("60.50")]
    text = page_messages(again)
    assert invoice.number in text and "paid €0.00 → €60.50" in text

    done = client.post(url, hidden_inputs(again.content.decode()))
    assert done.status_code == 302
    note = CreditNote.objects.get()
    assert note.account_credit_amount == eur("60.50")


def test_a_bulk_cancel_does_not_cancel_when_an_invoice_changed_after_its_confirmation(
    client, staff, invoice
):
    other = issued_invoice(customer=invoice.customer, specs=[("Desk", "1", "50.00", "21")])
    data = {
        "action": "cancel_selected",
        "index": "0",
        "_selected_action": [str(invoice.pk), str(other.pk)],
    }
    confirmation = client.post(CHANGELIST, data)
    assert confirmation.context["preview"].to_cancel_count == 2

    payment_record(invoice=invoice, amount=eur("60.50"), reference="TRX-1")
    again = client.post(CHANGELIST, hidden_inputs(confirmation.content.decode()))

    assert again.status_code == 200
    assert not CreditNote.objects.exists()
    text = page_messages(again)
    assert invoice.number in text and "paid €0.00 → €60.50" in text
    assert other.number not in text
    assert again.context["preview"].paid == [eur("60.50")]

    done = client.post(CHANGELIST, hidden_inputs(again.content.decode()))
    assert done.status_code == 302
    assert CreditNote.objects.count() == 2


def test_a_bulk_cancel_in_the_background_cancels_only_what_its_confirmation_showed(
    client, staff, invoice, settings
):
    settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD = 2
    others = [issued_invoice(customer=invoice.customer) for _ in range(2)]
    data = {
        "action": "cancel_selected",
        "index": "0",
        "_selected_action": [str(i.pk) for i in (invoice, *others)],
    }
    confirmation = client.post(CHANGELIST, data)
    assert confirmation.context["in_background"]

    # A payment between the page and Continue: the page is shown again, nothing is started.
    payment_record(invoice=others[0], amount=eur("10.00"), reference="TRX-2")
    again = client.post(CHANGELIST, hidden_inputs(confirmation.content.decode()))
    assert again.status_code == 200 and not BulkCancellation.objects.exists()
    assert "changed since this confirmation was shown" in page_messages(again)

    started = client.post(CHANGELIST, hidden_inputs(again.content.decode()))
    assert started.status_code == 302
    bulk = BulkCancellation.objects.get()
    # A payment after Continue, before the worker reaches the invoice: not cancelled.
    payment_record(invoice=invoice, amount=eur("60.50"), reference="TRX-1")
    bulk_cancellation_run(bulk_id=bulk.pk)

    outcomes = dict(bulk.items.values_list("invoice_id", "outcome"))
    assert outcomes == {invoice.pk: "failed", others[0].pk: "cancelled", others[1].pk: "cancelled"}
    failed = bulk.items.get(invoice_id=invoice.pk).message
    assert "paid €0.00 → €60.50" in failed
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID


def test_a_payment_landing_after_the_check_before_the_lock_shows_that_invoice_again(
    client, staff, invoice, monkeypatch
):
    """The view checks the figures before acting; a payment in the instant between that
    check and the invoice's lock is caught by ``invoice_cancel`` itself: that invoice is
    left alone and its confirmation shown again, the others are cancelled."""
    other = issued_invoice(customer=invoice.customer, specs=[("Desk", "1", "50.00", "21")])
    real_cancel = credits.services.invoice_cancel

    def cancel_after_a_payment(*, invoice: int, **kwargs):
        if invoice == target.pk:
            payment_record(invoice=target, amount=eur("60.50"), reference="TRX-1")
        return real_cancel(invoice=invoice, **kwargs)

    target = invoice
    data = {
        "action": "cancel_selected",
        "index": "0",
        "_selected_action": [str(invoice.pk), str(other.pk)],
    }
    confirmation = client.post(CHANGELIST, data)
    monkeypatch.setattr(credits.services.bulk, "invoice_cancel", cancel_after_a_payment)

    again = client.post(CHANGELIST, hidden_inputs(confirmation.content.decode()))

    assert again.status_code == 200
    assert list(CreditNote.objects.values_list("invoice_id", flat=True)) == [other.pk]
    assert [i.pk for i in again.context["preview"].to_cancel] == [invoice.pk]
    assert "paid €0.00 → €60.50" in page_messages(again)
    assert hidden_inputs(again.content.decode())["_selected_action"] == str(invoice.pk)
