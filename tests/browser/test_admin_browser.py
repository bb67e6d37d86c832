"""End to end in a real browser: Debian's Chromium driven by Playwright against the live
server, at 1280 pixels wide. Log in, tick invoices, choose "Cancel invoice", check the
confirmation page, Continue, read the credit note numbers in the success message; the row
link on another invoice; "Select all N" across pages; every amount on the lists, the
confirmation page and the customer page written the one way. Screenshots go to
``test-artifacts/``. ``test_admin_browser_embedded.py`` runs the same amount checks on the
embedded default (SQLite)."""

from decimal import Decimal

import pytest
from django.contrib import admin

from coworking.money import format_money
from credits.models import CreditNote
from credits.services import bulk_cancellation_run, bulk_cancellation_start, invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user
from tests.helpers import (
    ARTIFACTS,
    assert_amounts_formatted,
    assert_no_horizontal_scrolling,
    chromium_page,
    log_in,
)

# One worker runs the module's tests one after another, with one Chromium
# (tests/browser/conftest.py).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("test_admin_browser"),
]


@pytest.fixture
def page(live_server, browser):
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # itself are still plain synchronous calls, made between browser steps.
    with chromium_page(browser) as page:
        yield page


def test_staff_cancel_two_ticked_invoices_then_one_from_its_row_link(live_server, page):
    from playwright.sync_api import expect

    location = LocationFactory(invoice_prefix="AMS", credit_note_prefix="AMSCN")
    customer = CustomerFactory(location=location, billing_name="Grace Hopper")
    first, second, third = (issued_invoice(customer=customer) for _ in range(3))
    staff_user(cancel=True, username="finance")

    log_in(page, live_server)
    expect(page).to_have_url(f"{live_server.url}/admin/invoicing/invoice/")
    assert_amounts_formatted(page, where="the invoice list")
    assert_no_horizontal_scrolling(page, "a.cancel-invoice-link")

    # Tick two invoices and choose the action.
    for invoice in (first, second):
        page.check(f'input[name="_selected_action"][value="{invoice.pk}"]')
    page.select_option('select[name="action"]', "cancel_selected")
    expect(page.locator(".action-counter")).to_contain_text("2 of 3 selected")
    page.screenshot(path=ARTIFACTS / "admin-cancel-changelist.png", full_page=True)
    page.click('button[name="index"]')

    # The confirmation page lists both, with the total per currency.
    expect(page.locator("h1")).to_have_text("Cancel invoices")
    rows = page.locator("#invoices-to-cancel tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(first.number)
    expect(rows.nth(0)).to_contain_text("Grace Hopper")
    expect(rows.nth(1)).to_contain_text(second.number)
    expect(page.locator('#totals tr[data-currency="EUR"]')).to_contain_text("€1,003.30")
    expect(page.locator("a.cancel-link")).to_have_text("Back")
    page.fill("#id_reason", "Booked twice")
    assert_amounts_formatted(page, where="the confirmation page")
    page.screenshot(path=ARTIFACTS / "admin-cancel-confirmation.png", full_page=True)

    page.click('input[type=submit][value="Continue"]')

    success = page.locator(".messagelist .success")
    expect(success).to_contain_text("Cancelled 2 invoices; credit notes issued:")
    notes = list(CreditNote.objects.order_by("sequence_number"))
    assert [note.invoice_id for note in notes] == [first.pk, second.pk]
    assert {(note.channel, note.reason) for note in notes} == {(Channel.ADMIN_BULK, "Booked twice")}
    for note in notes:
        expect(success.get_by_role("link", name=note.number)).to_be_visible()
    page.screenshot(path=ARTIFACTS / "admin-cancel-result.png", full_page=True)

    # The row link of the third invoice leads to the same confirmation.
    page.click(f'a.cancel-invoice-link[href$="/invoicing/invoice/{third.pk}/cancel/"]')
    expect(page.locator("#invoices-to-cancel tbody tr")).to_have_count(1)
    expect(page.locator("#invoices-to-cancel")).to_contain_text(third.number)
    page.screenshot(path=ARTIFACTS / "admin-cancel-row-confirmation.png", full_page=True)
    page.click('input[type=submit][value="Continue"]')

    third_note = CreditNote.objects.get(invoice=third)
    expect(page.locator(".messagelist .success")).to_contain_text(
        f"Cancelled 1 invoice; credit note issued: {third_note.number}"
    )
    assert third_note.channel == Channel.ADMIN
    assert set(Invoice.objects.values_list("state", flat=True)) == {Invoice.State.CANCELLED}
    # No row is cancellable any more: no link left.
    expect(page.locator("a.cancel-invoice-link")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "admin-cancel-row-result.png", full_page=True)


def test_progress_page_shows_results_as_they_arrive(live_server, page):
    from playwright.sync_api import expect

    customer = CustomerFactory()
    invoices = [issued_invoice(customer=customer) for _ in range(3)]
    already = issued_invoice(customer=customer)
    staff_user(cancel=True, username="finance")
    bulk = bulk_cancellation_start(
        invoice_ids=[invoice.pk for invoice in [*invoices, already]], actor=None, reason="Closing"
    )  # no worker in this test: it stays queued until we run it below
    invoice_cancel(invoice=already, actor=None, channel=Channel.SYSTEM)  # meanwhile
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/invoicing/invoice/bulk-cancellations/{bulk.pk}/")
    expect(page.locator("#bulk-status")).to_have_text("Waiting for a worker")
    expect(page.locator("#bulk-done")).to_have_text("0")
    expect(page.locator("#bulk-results tbody tr")).to_have_count(0)

    bulk_cancellation_run(bulk_id=bulk.pk)  # what the worker does; the page polls

    expect(page.locator("#bulk-status")).to_have_text("Done")
    expect(page.locator("#bulk-done")).to_have_text("4")
    rows = page.locator("#bulk-results tbody tr.outcome-cancelled")
    expect(rows).to_have_count(3)
    for row, invoice in zip(rows.all(), invoices, strict=True):
        expect(row).to_contain_text(invoice.number)
        expect(row).to_contain_text(CreditNote.objects.get(invoice=invoice).number)
    expect(page.locator("#bulk-results tbody tr.outcome-skipped")).to_contain_text(already.number)
    # What happened, per outcome: not "Cancelled the 4 selected invoices".
    summary = page.locator("#bulk-summary")
    expect(summary).to_contain_text("3 invoices cancelled.")
    expect(summary).to_contain_text("1 skipped: Already cancelled.")
    assert page.locator("#bulk-bar").get_attribute("value") == "4"
    expect(page.locator("#bulk-requeue")).to_have_count(0)  # nothing left to queue
    page.screenshot(path=ARTIFACTS / "admin-bulk-progress.png", full_page=True)
    page.reload()  # everything comes from the database: same page after a reload
    expect(page.locator("#bulk-results tbody tr.outcome-cancelled")).to_have_count(3)


def test_select_all_across_pages_then_cancel(live_server, page, monkeypatch):
    """The header checkbox, then "Select all 7 invoices" (5 on the page), then Cancel
    invoice: the confirmation lists all 7 and Continue cancels all 7."""
    from playwright.sync_api import expect

    monkeypatch.setattr(admin.site._registry[Invoice], "list_per_page", 5)
    customer = CustomerFactory(billing_name="Grace Hopper")
    invoices = [issued_invoice(customer=customer) for _ in range(6)]
    invoices.append(issued_invoice(customer=customer, paid="100.00"))
    staff_user(cancel=True, username="finance")
    log_in(page, live_server)

    page.check("#action-toggle")
    page.click("text=Select all 7 invoices")
    page.select_option('select[name="action"]', "cancel_selected")
    page.click('button[name="index"]')

    expect(page.locator("#invoices-to-cancel tbody tr")).to_have_count(7)
    expect(page.locator("#paid-warning")).to_contain_text("€100.00")
    assert_amounts_formatted(page, where="the confirmation of a select-all")
    page.screenshot(path=ARTIFACTS / "admin-select-all-confirmation.png", full_page=True)
    page.click('input[type=submit][value="Continue"]')

    expect(page.locator(".messagelist .success")).to_contain_text("Cancelled 7 invoices")
    assert Invoice.objects.filter(state=Invoice.State.CANCELLED).count() == 7
    assert {note.invoice_id for note in CreditNote.objects.all()} == {i.pk for i in invoices}


def test_customer_page_amounts_and_a_filtered_list_kept_after_a_row_cancel(live_server, page):
    from playwright.sync_api import expect

    location = LocationFactory(invoice_prefix="AMS", credit_note_prefix="AMSCN")
    grace = CustomerFactory(location=location, billing_name="Grace Hopper")
    other = CustomerFactory(location=location, billing_name="Alan Turing")
    kept = issued_invoice(customer=grace, paid="all")
    target = issued_invoice(customer=grace)
    credited = issued_invoice(customer=grace, paid="all")
    invoice_cancel(invoice=credited, actor=None, channel=Channel.SYSTEM)  # its total: credit
    issued_invoice(customer=other)
    staff_user(cancel=True, username="finance")
    log_in(page, live_server)

    page.fill("#filter-customer input[name=customer]", "Grace")
    page.press("#filter-customer input[name=customer]", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    filtered = page.url
    page.click(f'a.cancel-invoice-link[href*="/invoicing/invoice/{target.pk}/cancel/"]')
    page.click('input[type=submit][value="Continue"]')
    expect(page.locator(".messagelist .success")).to_contain_text("Cancelled 1 invoice")
    assert page.url == filtered  # back on the same filtered list
    expect(page.locator("#result_list tbody tr")).to_have_count(3)

    page.goto(f"{live_server.url}/admin/coworking/customer/{grace.pk}/change/")
    assert assert_amounts_formatted(page, where="the customer page") >= 4
    # The account credit available, apart from the balance, written the one way too.
    available = page.locator(".available-credit .money")
    expect(available).to_have_count(1)
    assert available.first.text_content() == format_money(credited.total)
    assert available.first.get_attribute("data-currency") == "EUR"
    page.screenshot(path=ARTIFACTS / "admin-customer.png", full_page=True)
    assert kept.state == Invoice.State.PAID


def test_staff_issue_a_partial_credit_note_from_the_invoice_page(live_server, page):
    from playwright.sync_api import expect

    location = LocationFactory(invoice_prefix="AMS", credit_note_prefix="AMSCN")
    customer = CustomerFactory(location=location, billing_name="Grace Hopper")
    invoice = issued_invoice(
        customer=customer,
        specs=(("Day pass", "5", "20.00", "21"), ("Meeting room (hours)", "3", "35.00", "9")),
    )
    staff_user(cancel=True, credit=True, username="finance")

    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/invoicing/invoice/{invoice.pk}/change/")
    page.click("a.issue-credit-note-button")

    # The form: each line with what it has left; credit 2 of the 5 day passes.
    expect(page.locator("h1")).to_have_text(f"Issue credit note on {invoice.number}")
    day_pass = page.locator('#credit-lines tr[data-line="1"]')
    expect(day_pass).to_contain_text("Day pass")
    expect(day_pass.locator("td.remaining")).to_contain_text("5")
    day_pass.locator("input[name$='-quantity']").fill("2")
    page.select_option("#id_reason_code", "service_not_used")
    page.fill("#id_reason", "Two passes not used (internal note)")
    page.click("input[type=submit].default")

    # The confirmation: the note as it will be issued; nothing is written yet.
    expect(page.locator("#preview-lines tbody tr")).to_have_count(1)
    expect(page.locator("#preview-total")).to_have_text("-€48.40")
    expect(page.locator("#off-due")).to_have_text("€48.40")
    expect(page.locator("#account-credit")).to_have_text("€0.00")
    assert_amounts_formatted(page, where="the credit note confirmation")
    assert not CreditNote.objects.exists()
    page.screenshot(path=ARTIFACTS / "admin-credit-note-confirmation.png", full_page=True)
    page.click("input[type=submit].default")

    # Issued: back on the invoice page, which lists it and what is left to credit.
    expect(page.locator(".messagelist .success")).to_contain_text("Issued credit note")
    note = CreditNote.objects.get()
    assert note.total.amount == Decimal("-48.40") and not note.cancels_invoice
    assert [line.quantity for line in note.lines.all()] == [Decimal("-2")]
    expect(page.locator("#credit-notes")).to_contain_text(note.number)
    expect(page.locator("#creditable")).to_contain_text("187.05")
    page.screenshot(path=ARTIFACTS / "admin-credit-note-result.png", full_page=True)


def test_the_admin_and_swagger_ui_work_under_the_content_security_policy(live_server, page):
    """Every page carries the CSP; Chromium enforces it. The admin, the progress page's
    inline script (its nonce) and Swagger UI run with no violation reported."""
    from playwright.sync_api import expect

    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    customer = CustomerFactory()
    invoices = [issued_invoice(customer=customer) for _ in range(2)]
    staff_user(cancel=True, username="finance")
    bulk = bulk_cancellation_start(
        invoice_ids=[invoice.pk for invoice in invoices], actor=None, reason="Closing"
    )
    log_in(page, live_server)
    expect(page).to_have_url(f"{live_server.url}/admin/invoicing/invoice/")
    response = page.goto(f"{live_server.url}/admin/invoicing/invoice/bulk-cancellations/{bulk.pk}/")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    bulk_cancellation_run(bulk_id=bulk.pk)
    expect(page.locator("#bulk-status")).to_have_text("Done")  # the inline script ran

    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    page.screenshot(path=ARTIFACTS / "api-docs-under-csp.png")
    assert violations == []
