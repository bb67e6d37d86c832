"""Every list and the cancel confirmation fit a 1280-pixel screen in every admin language
(English, French, Dutch), with long customer names and e-mail addresses and a confirmation
of many invoices: no sideways scrolling, and numbers, dates and amounts on one line (long
headers and names wrap instead). Measured in headless Chromium. The browser's own locale
stays en-US while the admin speaks the language asked for: the customer page writes its
ledger's dates and the statement's period boxes as the admin language does (not as the
browser would), the list sorts by balance, and the statement downloads under the customer's
name."""

import re

import pytest
from django.contrib import admin
from django.utils import formats, timezone, translation

from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user
from tests.helpers import ARTIFACTS, WIDTH, chromium_page, log_in

# One worker runs the module's tests one after another, with one Chromium
# (tests/browser/conftest.py).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("test_admin_widths_browser"),
]

LANGUAGES = ["en", "fr", "nl"]
# 1 January as the statement's period box shows it per admin language.
TYPED_NEW_YEAR = {"en": "01/01/{year}", "fr": "01/01/{year}", "nl": "01-01-{year}"}
INVOICES = 45

# The number of line boxes of an element's text: 1 when it does not wrap.
LINES = """(element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
}"""


@pytest.fixture
def page(live_server, browser):
    with chromium_page(browser, timeout_ms=30_000) as page:
        yield page


@pytest.fixture
def books(monkeypatch):
    """Many invoices of customers with long names and addresses, a few paid, a few
    cancelled (credit notes), all on one page of the list."""
    monkeypatch.setattr(admin.site._registry[Invoice], "list_per_page", 200)
    location = LocationFactory(
        invoice_prefix="AMS", credit_note_prefix="AMSCN", email_documents=True
    )
    customers = [
        CustomerFactory(
            location=location,
            billing_name=f"Stichting Amsterdamse Creatieve Broedplaatsen en Werkruimtes {n} B.V.",
            billing_email=f"crediteurenadministratie.{n}@amsterdamse-broedplaatsen.example.nl",
        )
        for n in range(3)
    ]
    for n in range(INVOICES):
        invoice = issued_invoice(customer=customers[n % 3], paid={1: "all", 2: "100.00"}.get(n % 9))
        if n % 15 == 0:
            invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    staff_user(cancel=True, username="finance")
    return customers[0]


def measure(page, *, where: str, number_cells: str):
    """The page fits the screen and the first number cell holds one line."""
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{where} is {width} px wide"
    cell = page.locator(number_cells).first
    assert cell.evaluate(LINES) == 1, f"{where}: {cell.text_content()!r} wraps"


@pytest.mark.parametrize("language", LANGUAGES)
def test_lists_and_the_cancel_confirmation_fit_1280_pixels(live_server, page, books, language):
    log_in(page, live_server)
    page.set_extra_http_headers({"Accept-Language": language})
    base = f"{live_server.url}/admin"

    page.goto(f"{base}/invoicing/invoice/")
    measure(
        page,
        where=f"the invoice list ({language})",
        number_cells="#result_list .field-number_column a",
    )
    for date in page.locator("#result_list td.field-due_date").all()[:5]:
        assert date.evaluate(LINES) == 1, f"{date.text_content()!r} wraps"
    page.screenshot(path=ARTIFACTS / f"admin-invoices-{language}.png")

    page.check("#action-toggle")
    page.select_option('select[name="action"]', "cancel_selected")
    page.click('button[name="index"]')
    rows = page.locator("#invoices-to-cancel tbody tr")
    rows.first.wait_for()  # the click starts a navigation; count once the page has come
    assert rows.count() >= INVOICES * 0.9
    measure(
        page,
        where=f"the cancel confirmation ({language})",
        number_cells="#invoices-to-cancel td.number",
    )
    for cell in page.locator("#invoices-to-cancel tbody tr:first-child td.amount .money").all():
        assert cell.evaluate(LINES) == 1, f"{cell.text_content()!r} wraps"
    email = page.locator("#invoices-to-cancel td.email").first.bounding_box()
    assert email["x"] + email["width"] <= WIDTH, "the e-mail column is cut off"
    page.screenshot(path=ARTIFACTS / f"admin-cancel-confirmation-{language}.png")

    page.goto(f"{base}/credits/creditnote/")
    measure(
        page,
        where=f"the credit-note list ({language})",
        number_cells="#result_list .field-number a",
    )

    page.goto(f"{base}/coworking/customer/")
    measure(
        page,
        where=f"the customer list ({language})",
        number_cells="#result_list td.field-balance_column .money",
    )
    page.click("#result_list th.column-available_credit_column a")  # sortable
    page.wait_for_url(re.compile(r"[?&]o="))
    measure(
        page,
        where=f"the customer list by available credit ({language})",
        number_cells="#result_list td.field-available_credit_column .money",
    )

    assert page.evaluate("navigator.language") == "en-US"
    page.goto(f"{base}/coworking/customer/{books.pk}/change/")
    today = timezone.localdate()
    with translation.override(language):
        written = formats.date_format(today, "DATE_FORMAT")
    date = page.locator("#ledger tbody tr td").first
    assert date.inner_text() == written and re.fullmatch(r"\d{1,2} \w+\.? \d{4}", written)
    assert date.evaluate(LINES) == 1, f"{written!r} wraps"
    start = page.locator("#statement-start")
    assert start.get_attribute("type") == "text"  # not the browser's own (en-US) date box
    assert start.input_value() == TYPED_NEW_YEAR[language].format(year=today.year)
    if language == "nl":  # rendering the statement costs a second or two: once is enough
        with page.expect_download() as download:
            page.click("#statement-form input[type=submit]")
        name = download.value.suggested_filename  # the customer's name, cut short
        period = f"{today.year}-01-01-{today.isoformat()}"
        assert re.fullmatch(rf"statement-stichting-amsterdamse-[a-z0-9-]+-{period}\.pdf", name)
