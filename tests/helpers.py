"""Helpers shared by several test modules (a test module never imports from another one):
the API's problem responses, PDF text, the admin's cancel action, and the headless browser."""

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.urls import reverse

# --- REST API ---------------------------------------------------------------------------------


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == status
    assert body["type"].endswith(body["code"])
    if code is not None:
        assert body["code"] == code
    return body


# --- PDF text ---------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Collapse the no-break spaces of French number formats and runs of spaces; drop the
    space before "%" (pdftotext keeps the narrow no-break space of "9 %" or not)."""
    return re.sub(r"[ \u00a0\u202f]+", " ", text).replace(" %", "%")


# --- Admin: the "Cancel invoice" bulk action --------------------------------------------------


def post_action(client, invoices, *, follow=False, **extra):
    """Post the bulk Cancel invoice action; with ``post``, as Continue on the confirmation
    page shown just before (with the figures it carries)."""
    url = reverse("admin:invoicing_invoice_changelist")
    data = {
        "action": "cancel_selected",
        "index": "0",
        "_selected_action": [str(invoice.pk) for invoice in invoices],
    }
    if extra.get("post") and "confirmation" not in extra:
        page = client.post(url, data)
        if page.status_code == 200:
            data["confirmation"] = page.context["confirmation"]
    return client.post(url, {**data, **extra}, follow=follow)


def messages_of(response):
    return [(message.level, str(message)) for message in response.context["messages"]]


# --- Browser: Debian's Chromium driven by Playwright ------------------------------------------

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 1280
# An amount as the one formatting rule writes it in English (the pattern), and the
# currency's decimals after the point.
AMOUNT = re.compile(r"^-?[€£$]?[\d,.\u00a0\u202f ]+")
DECIMALS = {"EUR": 2, "GBP": 2, "USD": 2}


def assert_amounts_formatted(page, *, where: str) -> int:
    """Every amount on the page matches ``AMOUNT`` with exactly its currency's decimals, and
    no unformatted long decimal (``988.570000000000``) is left anywhere in the text."""
    page.wait_for_load_state()
    amounts = page.locator(".money")
    amounts.first.wait_for(state="attached")
    count = amounts.count()
    assert count, f"no amount on {where}"
    for index in range(count):
        element = amounts.nth(index)
        text, currency = element.text_content(), element.get_attribute("data-currency")
        assert AMOUNT.match(text), f"{where}: {text!r} is not an amount as the rule writes it"
        decimals = re.search(r"\.(\d+)\D*$", text)
        assert decimals and len(decimals.group(1)) == DECIMALS[currency], f"{where}: {text!r}"
    body = page.locator("body").inner_text()
    assert not re.search(r"\d\.\d{3,}", body), f"{where}: an unrounded amount is shown"
    return count


def assert_no_horizontal_scrolling(page, selector: str) -> None:
    """``selector`` (the row action) is on screen at 1280 pixels without any scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.evaluate(
        "(() => { const r = document.querySelector('.results');"
        " return r.scrollWidth <= r.clientWidth; })()"
    ), "the list scrolls sideways"
    box = page.locator(selector).first.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH


@contextmanager
def chromium():
    """Headless Chromium, launched once for a module's tests: a fresh context per test
    (``chromium_page``) isolates them as well as a launch would. Playwright's sync API runs
    an event loop in this thread meanwhile, so Django is told that its synchronous calls
    here are fine (``DJANGO_ALLOW_ASYNC_UNSAFE``)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does it).")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_page(browser, *, timeout_ms: int = 15_000, **options):
    """A page of its own browser context (no cookies or storage of another test), 1280
    pixels wide. With an event loop running, Django keys its connections by context, not
    thread: the ones opened meanwhile are closed after, or they outlive the test database."""
    from django.db import connections

    context = browser.new_context(viewport={"width": WIDTH, "height": 900}, **options)
    context.set_default_timeout(timeout_ms)
    try:
        yield context.new_page()
    finally:
        context.close()
        connections.close_all()


def log_in(page, live_server, username="finance"):
    """Log in and wait for the invoice list's ``load`` event: the admin's actions script
    resets the select-all box on ``pageshow``, so a click before it would be undone."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/invoicing/invoice/")
    page.fill("#id_username", username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/invoicing/invoice/", wait_until="load")


@contextmanager
def rows_for_the_module(django_db_blocker):
    """For a module-scoped fixture: the rows it writes inside are made once for the module's
    tests, in a transaction rolled back after the last one (each test runs in a savepoint of
    it, as in Django's ``TestCase.setUpTestData``). Mark the module with an ``xdist_group``
    so that its tests run one after another on one worker."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)
