"""The staff "Cancel invoice" workflow in the admin, through Django's test client.

Every branch: the bulk action (first POST renders the confirmation and changes nothing,
the second acts), the row link and the detail-page button (channel ``admin``), mixed
selections with skips, Back, double submit, permissions (403), totals per currency, the
paid-becomes-credit warning, isolation of failures, and the banner once cancelled.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

import credits.services.bulk
from coworking.models import LedgerEntry
from credits.errors import InvalidCancellation
from credits.models import BulkCancellation, CancellationEvent, CreditNote
from credits.services import bulk_cancellation_run
from invoicing.models import Channel, Invoice
from tests.conftest import hidden_inputs, money_amounts
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    draft_invoice,
    issued_invoice,
    staff_user,
)
from tests.helpers import messages_of, post_action

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:invoicing_invoice_changelist")


def cancel_url(invoice):
    return reverse("admin:invoicing_invoice_cancel", args=[invoice.pk])


def post_cancel(client, invoice, *, follow=False, **data):
    """Continue on the row link's (or detail button's) confirmation page."""
    origin = data.get("origin", "changelist")
    page = client.get(cancel_url(invoice), {"origin": origin})
    confirmation = hidden_inputs(page.content.decode())["confirmation"]
    return client.post(
        cancel_url(invoice), {"post": "yes", "confirmation": confirmation, **data}, follow=follow
    )


def refreshed(*invoices):
    return [Invoice.objects.get(pk=invoice.pk) for invoice in invoices]


@pytest.fixture
def staff(client):
    user = staff_user(cancel=True)
    client.force_login(user)
    return user


@pytest.fixture
def location():
    return LocationFactory(invoice_prefix="AMS", credit_note_prefix="AMSC")


@pytest.fixture
def customer(location):
    return CustomerFactory(location=location, billing_name="Ada Lovelace")


# --- the list ---------------------------------------------------------------------------------


def test_changelist_links_cancel_on_cancellable_rows_only(client, staff, customer):
    issued = issued_invoice(customer=customer)
    part_paid = issued_invoice(customer=customer, paid="10.00")
    paid = issued_invoice(customer=customer, paid="all")
    draft = draft_invoice(customer=customer)
    cancelled = issued_invoice(customer=customer)
    credits.services.invoice_cancel(invoice=cancelled, actor=staff, channel=Channel.ADMIN)

    html = client.get(CHANGELIST).content.decode()

    for invoice in (issued, part_paid, paid):
        assert f'href="{cancel_url(invoice)}"' in html
    for invoice in (draft, cancelled):
        assert f'href="{cancel_url(invoice)}"' not in html
    assert '<option value="cancel_selected">Cancel invoice</option>' in html
    # The cancelled row links its credit note instead.
    credit_note = CreditNote.objects.get(invoice=cancelled)
    assert reverse("admin:credits_creditnote_change", args=[credit_note.pk]) in html


# --- bulk action --------------------------------------------------------------------------------


def test_first_post_renders_the_confirmation_and_changes_nothing(client, staff, customer):
    first, second = issued_invoice(customer=customer), issued_invoice(customer=customer)

    response = post_action(client, [first, second])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/invoicing/invoice/cancel_confirmation.html"
    html = response.content.decode()
    for invoice in (first, second):
        assert invoice.number in html
        assert f'name="_selected_action" value="{invoice.pk}"' in html
    assert "Ada Lovelace" in html
    assert 'name="action" value="cancel_selected"' in html
    assert 'name="post" value="yes"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'name="reason"' in html
    assert 'value="Continue"' in html and ">Back</a>" in html
    assert '<div class="breadcrumbs">' in html and "Invoices</a>" in html
    totals = html[html.index('id="totals"') :]
    assert money_amounts(totals)[0] == ("EUR", "€1,003.30")
    assert "paid-warning" not in html  # nothing was paid
    assert [i.state for i in refreshed(first, second)] == [Invoice.State.ISSUED] * 2
    assert not CreditNote.objects.exists()


def test_continue_cancels_each_invoice_and_reports_one_success(client, staff, customer):
    first, second = issued_invoice(customer=customer), issued_invoice(customer=customer)

    response = post_action(client, [first, second], post="yes", reason="Duplicate", follow=True)

    assert response.redirect_chain == [(CHANGELIST, 302)]
    notes = list(CreditNote.objects.order_by("sequence_number"))
    assert [note.invoice_id for note in notes] == [first.pk, second.pk]
    assert [note.sequence_number for note in notes] == [1, 2]
    assert {note.channel for note in notes} == {Channel.ADMIN_BULK}
    assert {note.reason for note in notes} == {"Duplicate"}
    assert {note.created_by_id for note in notes} == {staff.pk}
    assert all(invoice.state == Invoice.State.CANCELLED for invoice in refreshed(first, second))
    (level, text), *others = messages_of(response)
    assert others == []
    assert level == constants.SUCCESS
    assert text.startswith("Cancelled 2 invoices; credit notes issued: ")
    for note in notes:  # few: each one linked
        url = reverse("admin:credits_creditnote_change", args=[note.pk])
        assert f'<a href="{url}">{note.number}</a>' in text


def test_mixed_selection_lists_skips_with_reasons_and_warns_about_paid_amounts(
    client, staff, customer
):
    issued = issued_invoice(customer=customer)
    paid = issued_invoice(customer=customer, paid="all")
    part_paid = issued_invoice(customer=customer, paid="100.00")
    draft = draft_invoice(customer=customer)
    cancelled = issued_invoice(customer=customer)
    credits.services.invoice_cancel(invoice=cancelled, actor=staff, channel=Channel.CLI)
    selection = [issued, paid, part_paid, draft, cancelled]

    html = post_action(client, selection).content.decode()

    to_cancel = html[html.index('id="invoices-to-cancel"') : html.index('id="totals"')]
    skipped = html[html.index('id="invoices-skipped"') :]
    for invoice in (issued, paid, part_paid):
        assert f'data-invoice="{invoice.pk}"' in to_cancel
    assert f'data-invoice="{draft.pk}"' in skipped and "Draft: delete it instead" in skipped
    assert f'data-invoice="{cancelled.pk}"' in skipped and "Already cancelled" in skipped
    warning = html[html.index('id="paid-warning"') :]
    assert "2 invoices have already been paid in part or in full" in warning
    assert "does not refund anything" in warning
    assert money_amounts(warning)[0] == ("EUR", "€601.65")  # 501.65 + 100.00 stay as credit
    assert money_amounts(html[html.index('id="totals"') :])[0] == ("EUR", "€1,504.95")  # 3 × 501.65

    response = post_action(client, selection, post="yes", follow=True)

    received = messages_of(response)
    assert received[0][0] == constants.SUCCESS
    assert received[0][1].startswith("Cancelled 3 invoices;")
    assert received[1:] == [
        (constants.WARNING, f"Skipped {draft}: Draft: delete it instead of cancelling."),
        (constants.WARNING, f"Skipped {cancelled.number}: Already cancelled."),
    ]
    assert CreditNote.objects.count() == 4
    # Paid amounts stay on the account as credit: −(501.65 + 100.00) after all the notes.
    balance = sum(e.amount.amount for e in LedgerEntry.objects.filter(customer=customer))
    assert balance == Decimal("-601.65")


def test_back_is_a_plain_link_to_the_list_and_changes_nothing(client, staff, customer):
    invoice = issued_invoice(customer=customer)

    html = post_action(client, [invoice]).content.decode()
    back = re.search(r'<a href="([^"]*)" class="button cancel-link">Back</a>', html)

    assert back and back.group(1) == CHANGELIST
    assert client.get(back.group(1)).status_code == 200
    assert refreshed(invoice)[0].state == Invoice.State.ISSUED
    assert not CreditNote.objects.exists() and not CancellationEvent.objects.exists()


def test_double_submit_cancels_once_and_reports_the_second_as_skipped(client, staff, customer):
    first, second = issued_invoice(customer=customer), issued_invoice(customer=customer)
    confirmation = hidden_inputs(post_action(client, [first, second]).content.decode())
    first_response = client.post(CHANGELIST, confirmation, follow=True)
    assert messages_of(first_response)[0][1].startswith("Cancelled 2 invoices;")

    response = client.post(CHANGELIST, confirmation, follow=True)  # again

    assert CreditNote.objects.count() == 2
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CREDIT_NOTE).count() == 2
    assert messages_of(response) == [
        (constants.WARNING, f"Skipped {first.number}: Already cancelled."),
        (constants.WARNING, f"Skipped {second.number}: Already cancelled."),
    ]


def test_a_selection_stopped_by_its_time_budget_reports_what_it_did_not_do(
    client, staff, customer, settings
):
    settings.ADMIN_BULK_CANCEL_TIME_BUDGET = 0  # the first is always attempted, then stop
    invoices = [issued_invoice(customer=customer) for _ in range(3)]

    response = post_action(client, invoices, post="yes", follow=True)

    states = [invoice.state for invoice in refreshed(*invoices)]
    assert states == [Invoice.State.CANCELLED, Invoice.State.ISSUED, Invoice.State.ISSUED]
    note = CreditNote.objects.get()
    assert [(level, re.sub("<[^>]+>", "", text)) for level, text in messages_of(response)] == [
        (constants.SUCCESS, f"Cancelled 1 invoice; credit note issued: {note.number}."),
        (
            constants.ERROR,
            "Stopped part-way: the time allowed for one request ran out. 2 invoices were not "
            "attempted (nothing changed on them), select them again: "
            f"{invoices[1].number}, {invoices[2].number}.",
        ),
    ]


def test_totals_are_per_currency_and_never_mixed(client, staff, customer):
    eur = [issued_invoice(customer=customer), issued_invoice(customer=customer)]
    gbp = [
        issued_invoice(customer=customer, currency="GBP", specs=[("Desk", "1", "100.00", "20")]),
        issued_invoice(customer=customer, currency="GBP", specs=[("Desk", "2", "50.50", "20")]),
    ]

    html = post_action(client, eur + gbp).content.decode()
    totals = html[html.index('id="totals"') : html.index("</table>", html.index('id="totals"'))]

    assert money_amounts(totals) == [("EUR", "€1,003.30"), ("GBP", "£241.20")]  # 120 + 121.20


def test_reason_too_long_re_renders_the_page_with_the_error(client, staff, customer):
    invoice = issued_invoice(customer=customer)

    response = post_action(client, [invoice], post="yes", reason="x" * 1001)

    assert response.status_code == 200
    assert "at most 1000 characters" in response.content.decode()
    assert not CreditNote.objects.exists()


def test_one_failure_does_not_undo_or_stop_the_others(client, staff, customer, monkeypatch):
    first, broken, last = (issued_invoice(customer=customer) for _ in range(3))
    real_cancel = credits.services.invoice_cancel

    def cancel_failing_for_one(*, invoice, **kwargs):
        if invoice == broken.pk:
            raise InvalidCancellation("The service refused it")
        return real_cancel(invoice=invoice, **kwargs)

    monkeypatch.setattr(credits.services.bulk, "invoice_cancel", cancel_failing_for_one)

    response = post_action(client, [first, broken, last], post="yes", follow=True)

    assert [i.state for i in refreshed(first, broken, last)] == [
        Invoice.State.CANCELLED,
        Invoice.State.ISSUED,
        Invoice.State.CANCELLED,
    ]
    received = messages_of(response)
    assert received[0][1].startswith("Cancelled 2 invoices;")
    assert received[1] == (
        constants.WARNING,
        f"Could not cancel {broken.number}: The service refused it",
    )


def test_select_across_cancels_everything_the_filter_matches(client, staff, customer):
    other_location = CustomerFactory()
    mine = [issued_invoice(customer=customer) for _ in range(3)]
    theirs = issued_invoice(customer=other_location)
    url = f"{CHANGELIST}?location__id__exact={customer.location_id}"
    data = {"action": "cancel_selected", "index": "0", "select_across": "1"}
    data["_selected_action"] = [str(mine[0].pk)]  # the page's ticks; select_across wins

    html = client.post(url, data).content.decode()
    # The confirmation posts back the flag and the page's ticks (Django refuses an action
    # posted without any), as the browser's form does on Continue.
    assert 'name="select_across" value="1"' in html
    assert html.count('name="_selected_action"') == 1
    assert f'name="_selected_action" value="{mine[0].pk}"' in html
    assert all(invoice.number in html for invoice in mine) and theirs.number not in html
    continue_data = {key: value for key, value in data.items() if key != "index"}

    confirmation = hidden_inputs(html)["confirmation"]
    client.post(url, {**continue_data, "post": "yes", "confirmation": confirmation})

    assert {note.invoice_id for note in CreditNote.objects.all()} == {i.pk for i in mine}


# --- row link and detail page ---------------------------------------------------------------


def test_row_link_confirms_then_cancels_with_channel_admin(client, staff, customer):
    invoice = issued_invoice(customer=customer, paid="10.00")

    page = client.get(cancel_url(invoice))
    html = page.content.decode()
    assert page.status_code == 200
    assert invoice.number in html and "paid-warning" in html
    assert 'name="origin" value="changelist"' in html
    assert 'name="_selected_action"' not in html
    assert refreshed(invoice)[0].state == Invoice.State.PARTIALLY_PAID

    response = post_cancel(client, invoice, origin="changelist", reason="Wrong desk")

    assert response.status_code == 302 and response.url == CHANGELIST
    note = CreditNote.objects.get(invoice=invoice)
    assert (note.channel, note.reason, note.total) == (
        Channel.ADMIN,
        "Wrong desk",
        Money("-501.65", "EUR"),
    )
    assert CancellationEvent.objects.get(invoice=invoice).channel == Channel.ADMIN


def test_row_link_on_an_invoice_that_cannot_be_cancelled_offers_only_back(client, staff, customer):
    invoice = draft_invoice(customer=customer)

    html = client.get(cancel_url(invoice)).content.decode()

    assert "Nothing to cancel" in html and "Draft: delete it instead" in html
    assert 'value="Continue"' not in html


def test_detail_page_has_the_button_and_then_the_credit_note_banner(client, staff, customer):
    invoice = issued_invoice(customer=customer)
    change_url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])

    html = client.get(change_url).content.decode()
    assert f'href="{cancel_url(invoice)}?origin=change"' in html
    assert "cancelled-banner" not in html

    confirmation = client.get(cancel_url(invoice) + "?origin=change").content.decode()
    assert 'name="origin" value="change"' in confirmation
    response = post_cancel(client, invoice, origin="change", follow=True)

    assert response.redirect_chain == [(change_url, 302)]
    note = CreditNote.objects.get(invoice=invoice)
    html = response.content.decode()
    banner = html[html.index('id="cancelled-banner"') :]
    note_url = reverse("admin:credits_creditnote_change", args=[note.pk])
    assert f'by credit note <a href="{note_url}">{note.number}</a>' in banner
    assert f'href="{cancel_url(invoice)}' not in html  # no button once cancelled
    assert messages_of(response)[0][1].startswith("Cancelled 1 invoice; credit note issued: ")


# --- permissions -------------------------------------------------------------------------------


def test_without_the_permission_nothing_is_offered_and_posting_anyway_is_403(client, customer):
    client.force_login(staff_user(cancel=False))
    invoice = issued_invoice(customer=customer)
    change_url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])

    changelist = client.get(CHANGELIST).content.decode()
    assert client.get(CHANGELIST).status_code == 200
    assert "cancel_selected" not in changelist
    assert cancel_url(invoice) not in changelist
    assert cancel_url(invoice) not in client.get(change_url).content.decode()

    assert post_action(client, [invoice]).status_code == 403
    assert post_action(client, [invoice], post="yes").status_code == 403
    assert client.get(cancel_url(invoice)).status_code == 403
    assert client.post(cancel_url(invoice), {"post": "yes"}).status_code == 403
    assert refreshed(invoice)[0].state == Invoice.State.ISSUED
    assert not CreditNote.objects.exists()


def test_anonymous_users_are_sent_to_the_login_page(client, customer):
    invoice = issued_invoice(customer=customer)

    response = client.post(cancel_url(invoice), {"post": "yes"})

    assert response.status_code == 302 and "/login/" in response.url
    assert not CreditNote.objects.exists()


def test_the_forms_are_csrf_protected(customer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user(cancel=True))
    invoice = issued_invoice(customer=customer)

    assert client.post(cancel_url(invoice), {"post": "yes"}).status_code == 403
    assert post_action(client, [invoice], post="yes").status_code == 403
    assert not CreditNote.objects.exists()


# --- large selections (the task itself runs in tests/admin/test_admin_bulk_async.py) --------


def test_large_selection_goes_to_the_background_with_a_progress_page(
    client, staff, customer, settings
):
    settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD = 2
    invoices = [issued_invoice(customer=customer) for _ in range(3)]
    draft = draft_invoice(customer=customer)

    html = post_action(client, [*invoices, draft]).content.decode()
    assert "background-note" in html

    response = post_action(client, [*invoices, draft], post="yes", reason="Move")

    bulk = BulkCancellation.objects.get()
    progress_url = reverse("admin:invoicing_invoice_bulk_cancellation", args=[bulk.pk])
    assert response.status_code == 302 and response.url == progress_url
    assert (bulk.status, bulk.total, bulk.reason, bulk.channel) == (
        "queued",
        4,
        "Move",
        "admin_bulk",
    )
    assert not CreditNote.objects.exists()  # nothing done in the request
    page = client.get(progress_url).content.decode()
    assert 'id="bulk-done">0</strong> / <span id="bulk-total">4</span>' in page

    bulk_cancellation_run(bulk_id=bulk.pk)  # what the worker does
    bulk_cancellation_run(bulk_id=bulk.pk)  # a redelivered task finds nothing left to do

    assert CreditNote.objects.count() == 3
    page = client.get(progress_url).content.decode()
    assert 'id="bulk-done">4</strong> / <span id="bulk-total">4</span>' in page
    assert page.count('class="outcome-cancelled"') == 3 and "Draft: delete it instead" in page
    data = client.get(
        reverse("admin:invoicing_invoice_bulk_cancellation_progress", args=[bulk.pk])
    ).json()
    assert (data["status"], data["done"], data["cancelled"], data["skipped"]) == ("done", 4, 3, 1)
    assert [row["invoice"] for row in data["results"]] == [
        *(i.number for i in invoices),
        str(draft),
    ]
    assert all(row["credit_note"] for row in data["results"][:3])
    later = client.get(
        reverse("admin:invoicing_invoice_bulk_cancellation_progress", args=[bulk.pk]),
        {"after": data["next"]},
    ).json()
    assert later["results"] == [] and later["finished"]


def test_a_bulk_cancellation_left_queued_can_be_queued_again_by_who_may_cancel(client, customer):
    from credits.services import bulk_cancellation_start

    invoice = issued_invoice(customer=customer)
    bulk = bulk_cancellation_start(invoice_ids=[invoice.pk], actor=None)
    url = reverse("admin:invoicing_invoice_bulk_cancellation", args=[bulk.pk])

    client.force_login(staff_user(cancel=False))
    assert 'id="bulk-requeue"' not in client.get(url).content.decode()
    assert client.post(url).status_code == 403

    client.force_login(staff_user(cancel=True))
    assert 'id="bulk-requeue"' not in client.get(url).content.decode()  # just started
    a_while_ago = timezone.now() - datetime.timedelta(
        seconds=settings.BULK_CANCELLATION_REQUEUE_AFTER + 1
    )
    BulkCancellation.objects.filter(pk=bulk.pk).update(created_at=a_while_ago)
    assert 'id="bulk-requeue"' in client.get(url).content.decode()  # nothing moved since
    response = client.post(url, follow=True)  # sends the task to the Redis broker again
    assert messages_of(response) == [(constants.INFO, "Queued again.")]

    bulk_cancellation_run(bulk_id=bulk.pk)
    assert 'id="bulk-requeue"' not in client.get(url).content.decode()
    assert client.post(url).status_code == 200  # done: nothing to queue, just the page
    assert CreditNote.objects.filter(invoice=invoice).count() == 1


def test_the_invoice_page_lists_its_credit_notes_and_what_is_left_to_credit(client):
    from decimal import Decimal as D

    from credits.services import LineCredit, credit_note_issue

    invoice = issued_invoice(specs=[("Day pass", "5", "20.00", "0")])
    note = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(invoice.lines.get().pk, D("2"))],
        actor=None,
        channel="admin",
    )
    client.force_login(staff_user())
    page = client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    assert note.number in page and 'id="credit-notes"' in page
    assert "Left to credit: €60.00" in page or "Left to credit: 60.00" in page


def test_a_large_selection_counts_what_will_be_cancelled_and_its_result_says_per_outcome(
    client, staff, customer, settings
):
    """The background decision and the messages count what will be cancelled, not the
    selection; once done, the progress page says how many were cancelled, how many were
    skipped and why, and which failed with their reason (here a database refusal)."""
    from django.db import connection

    settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD = 3
    invoices = [issued_invoice(customer=customer) for _ in range(5)]
    already = issued_invoice(customer=customer)
    credits.services.invoice_cancel(invoice=already, actor=None, channel=Channel.CLI)
    draft = draft_invoice(customer=customer)
    selection = [*invoices, already, draft]
    assert "background-note" in post_action(client, selection).content.decode()
    # 3 to cancel and 2 to skip: not above the threshold, whatever the selection's size.
    few = [*invoices[:3], already, draft]
    assert "background-note" not in post_action(client, few).content.decode()

    response = post_action(client, selection, post="yes", reason="Move", follow=True)
    assert messages_of(response) == [
        (
            constants.INFO,
            "Cancelling 5 invoices in the background. 2 selected invoices will be skipped: "
            "they cannot be cancelled.",
        )
    ]
    bulk = BulkCancellation.objects.get()
    with connection.cursor() as cursor:  # the database refuses one invoice's credit note
        cursor.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by a test'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON credits_creditnote FOR EACH ROW "
            f"WHEN (NEW.invoice_id = {invoices[2].pk}) EXECUTE FUNCTION test_refuse()"
        )
    bulk_cancellation_run(bulk_id=bulk.pk)

    url = reverse("admin:invoicing_invoice_bulk_cancellation", args=[bulk.pk])
    page = client.get(url).content.decode()
    summary = page[page.index('id="bulk-summary"') :]
    summary = summary[: summary.index("</ul>")]
    assert "4 invoices cancelled." in summary
    assert "1 skipped: Already cancelled." in summary
    assert "1 skipped: Draft: delete it instead of cancelling." in summary
    assert (
        f"1 failed, nothing changed on it ({invoices[2].number}: unexpected error; it has "
        "been logged)." in summary
    )
    data = client.get(
        reverse("admin:invoicing_invoice_bulk_cancellation_progress", args=[bulk.pk])
    ).json()
    assert data["summary"][0] == "4 invoices cancelled." and len(data["summary"]) == 4
    assert Invoice.objects.get(pk=invoices[2].pk).state == Invoice.State.ISSUED
