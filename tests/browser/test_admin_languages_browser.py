"""The admin as a French and a Dutch browser show it (headless Chromium with the browser's
language set): the home page in a finance person's order, the invoice list's words as
rendered (the admin upper-cases buttons and column headers, so "AJOUTER INVOICE" was what a
French reader saw), and the customer ledger in one language. Screenshots go to
``test-artifacts/``."""

from pathlib import Path

import pytest
from django.db import connections

from invoicing.services import payment_record
from tests.factories import CustomerFactory, LocationFactory, UserFactory, issued_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser_in(live_server, monkeypatch):
    """``browser_in("fr-FR")`` → a logged-in page of a browser asking for that language."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    UserFactory(username="finance", is_staff=True, is_superuser=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )

        def open_page(locale: str):
            context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", "finance")
            page.fill("#id_password", "password")
            page.click("input[type=submit]")
            page.wait_for_url(f"{live_server.url}/admin/")
            return page

        try:
            yield open_page
        finally:
            browser.close()
            connections.close_all()


@pytest.mark.parametrize(
    ("locale", "finance", "add_invoice", "amount_due", "payment"),
    [
        (
            "fr-FR",
            ["Factures", "Avoirs", "Clients"],
            "AJOUTER FACTURE",
            "MONTANT DÛ",
            "Paiement de",
        ),
        (
            "nl-NL",
            ["Facturen", "Creditnota's", "Klanten"],
            "FACTUUR TOEVOEGEN",
            "OPENSTAAND BEDRAG",
            "Betaling voor",
        ),
    ],
)
def test_finance_staff_read_the_admin_in_their_language(
    live_server, browser_in, locale, finance, add_invoice, amount_due, payment
):
    location = LocationFactory(invoice_prefix="AMS")
    customer = CustomerFactory(location=location, billing_name="Zeeman Studio")
    invoice = issued_invoice(customer=customer)
    payment_record(invoice=invoice, amount=invoice.amount_due)
    page = browser_in(locale)
    language = locale[:2]

    first_section = page.locator("#content-main .module").first
    assert first_section.locator("caption").inner_text().strip() in ("FINANCE", "FINANCIËN")
    assert first_section.locator("th[scope=row]").all_inner_texts()[:3] == finance
    assert page.locator("#content-main .module").last.locator("caption").inner_text().strip() in (
        "SYSTÈME",
        "SYSTEEM",
    )
    page.screenshot(path=ARTIFACTS / f"admin-home-{language}.png", full_page=True)

    page.goto(f"{live_server.url}/admin/invoicing/invoice/")
    assert page.locator(".object-tools .addlink").inner_text().strip() == add_invoice
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert any(amount_due in header for header in headers), headers
    page.screenshot(path=ARTIFACTS / f"admin-invoices-{language}.png", full_page=True)

    page.goto(f"{live_server.url}/admin/coworking/customer/{customer.pk}/change/")
    ledger = page.locator("#ledger tbody").inner_text()
    assert f"{payment}" in ledger and invoice.number in ledger
    for english in ("Payment for", "Invoice ", "Bank transfer", "Customer account"):
        assert english not in page.locator("body").inner_text(), english
    page.screenshot(path=ARTIFACTS / f"admin-customer-{language}.png", full_page=True)
