"""The admin as a French and a Dutch browser show it (headless Chromium with the browser's
language set): the home page in a finance person's order, the invoice list's words as
rendered (the admin upper-cases buttons and column headers, so "AJOUTER INVOICE" was what a
French reader saw), the amount-due box reading the language's amounts, the invoice page's
quantities (never "1.000" for one) and its credited figure, the cancel page's wording, and
the customer ledger in one language. Screenshots go to ``test-artifacts/``."""

from contextlib import ExitStack
from decimal import Decimal

import pytest
from django.utils import translation

from coworking.money import format_money
from credits.services import LineCredit, credit_note_issue
from invoicing.models import Channel
from invoicing.services import payment_record
from tests.factories import CustomerFactory, LocationFactory, UserFactory, issued_invoice
from tests.helpers import ARTIFACTS, chromium_page

# One worker runs the module's tests one after another, with one Chromium
# (tests/browser/conftest.py).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("test_admin_languages_browser"),
]


@pytest.fixture
def browser_in(live_server, browser):
    """``browser_in("fr-FR")`` → a logged-in page of a browser asking for that language."""
    UserFactory(username="finance", is_staff=True, is_superuser=True)
    with ExitStack() as pages:

        def open_page(locale: str):
            page = pages.enter_context(chromium_page(browser, locale=locale))
            page.goto(f"{live_server.url}/admin/login/")
            page.fill("#id_username", "finance")
            page.fill("#id_password", "password")
            page.click("input[type=submit]")
            page.wait_for_url(f"{live_server.url}/admin/")
            return page

        yield open_page


# The language's 1000.50 as staff type it, and quantities 5 and 1.5 as it writes them.
WRITTEN = {"fr": ("1 000,50", ["5", "1,5"]), "nl": ("1.000,50", ["5", "1,5"])}


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
    from playwright.sync_api import expect

    location = LocationFactory(invoice_prefix="AMS")
    customer = CustomerFactory(location=location, billing_name="Zeeman Studio")
    invoice = issued_invoice(customer=customer)
    payment_record(invoice=invoice, amount=invoice.amount_due)
    passes = issued_invoice(
        customer=customer,
        specs=(("Day pass", "5", "20.00", "21"), ("Meeting room (hours)", "1.5", "40.00", "9")),
    )
    credit_note_issue(
        invoice=passes,
        lines=[LineCredit(invoice_line=passes.lines.get(position=1).pk, quantity=Decimal(1))],
        actor=None,
        channel=Channel.SYSTEM,
    )
    issued_invoice(customer=customer, specs=[("Office", "1", "1000.50", "0")])
    page = browser_in(locale)
    language = locale[:2]
    amount, quantities = WRITTEN[language]

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

    # The amount-due box reads the language's 1000.50; what it cannot read stays, with a message.
    rows, box = page.locator("#result_list tbody tr"), page.locator("#filter-due_from input")
    box.fill(amount)
    box.press("Enter")
    expect(rows).to_have_count(1)
    expect(box).to_have_value(amount)
    box.fill("abc")
    box.press("Enter")
    expect(page.locator(".messagelist .error")).to_contain_text("abc")
    expect(box).to_have_value("abc")
    expect(rows).to_have_count(3)  # not filtered by amount, and the message says so

    # The invoice page: quantities as the language writes them, what was credited, and no
    # empty cancellation rows on a live invoice.
    page.goto(f"{live_server.url}/admin/invoicing/invoice/{passes.pk}/change/")
    shown = page.locator("td.field-quantity_display").all_inner_texts()
    assert [text.strip() for text in shown] == quantities
    credited = format_money(Decimal("24.20"), "EUR", language=language)  # one day pass
    expect(page.locator(".field-amount_credited_display .money")).to_have_text(credited)
    expect(page.locator(".field-cancelled_at")).to_have_count(0)
    # No empty exemption, period or discount columns: the lines fit the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=ARTIFACTS / f"admin-invoice-{language}.png", full_page=True)

    # The cancel page: the reason called internal and not printed, in the language; no
    # sentence left on a colon.
    page.goto(f"{live_server.url}/admin/invoicing/invoice/{passes.pk}/cancel/")
    with translation.override(language):
        internal = translation.gettext(
            "Optional and internal: kept for staff with the credit notes and in the audit "
            "trail; not printed on them and never sent to the customer."
        )
    expect(page.locator("#content-main .help").get_by_text(internal, exact=True)).to_be_visible()
    texts = page.locator("#content-main p, #content-main .help").all_inner_texts()
    assert not [text for text in texts if text.strip().endswith(":")], texts

    page.goto(f"{live_server.url}/admin/coworking/customer/{customer.pk}/change/")
    ledger = page.locator("#ledger tbody").inner_text()
    assert f"{payment}" in ledger and invoice.number in ledger
    for english in ("Payment for", "Invoice ", "Bank transfer", "Customer account"):
        assert english not in page.locator("body").inner_text(), english
    page.screenshot(path=ARTIFACTS / f"admin-customer-{language}.png", full_page=True)
