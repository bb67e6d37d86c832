"""The embedded default (``make run`` without ``DATABASE_URL``: SQLite, tasks in-process), end
to end: a fresh database is migrated and seeded by the real commands in a subprocess,
served by gunicorn on a free port and driven in headless Chromium. Every amount on the
invoice list, the confirmation page and the customer page is written the one way, with
exactly its currency's decimals (never a SQLite sum's ``988.570000000000``), and
``reconcile`` finds every invariant holding after cancels (no false breach from
floating-point sums). Test modules that run on SQLite are named for the embedded default."""

import re
import subprocess
import sys

import pytest

from tests.conftest import wait_until
from tests.embedded import ROOT, embedded_env, run_manage
from tests.helpers import (
    ARTIFACTS,
    assert_amounts_formatted,
    assert_no_horizontal_scrolling,
    chromium_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A seeded embedded app on its own SQLite file: ``(base_url, manage)``. Its documents'
    PDFs stay pending (``CELERY_TASK_ALWAYS_EAGER=0``): the amounts on the pages are under
    test, and rendering a PDF per seeded and cancelled document took most of the time."""
    home = tmp_path_factory.mktemp("embedded")
    env = embedded_env(home, LOG_LEVEL="WARNING", CELERY_TASK_ALWAYS_EAGER="0")

    def manage(*args, check=True):
        return run_manage(*args, env=env, check=check, timeout=600)

    manage("migrate", "--noinput")
    manage("seed_demo", "--invoices", "40")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi"],
        cwd=ROOT,
        env={
            **env,
            "GUNICORN_BIND": "127.0.0.1:0",  # a free port, read back from the log
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "1",
            "GUNICORN_ACCESS_LOG": "/dev/null",
        },
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = None
        for line in server.stderr:
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = match.group(1)
                break
        assert port, "gunicorn did not start"
        yield f"http://127.0.0.1:{port}", manage
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def page(browser):
    with chromium_page(browser, timeout_ms=30_000) as page:
        yield page


def test_amounts_are_exact_and_formatted_on_the_embedded_default(embedded, page):
    from playwright.sync_api import expect

    base_url, manage = embedded
    page.goto(f"{base_url}/admin/login/?next=/admin/invoicing/invoice/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin")
    page.click("input[type=submit]")
    expect(page.locator("h1")).to_have_text("Invoices")
    page.wait_for_load_state("load")  # the actions script resets select-all on pageshow
    assert_amounts_formatted(page, where="the embedded invoice list")
    assert_no_horizontal_scrolling(page, "a.cancel-invoice-link")
    page.screenshot(path=ARTIFACTS / "embedded-invoices.png")

    # Every row ticked: sums over the whole page, computed by SQLite.
    page.check("#action-toggle")
    page.select_option('select[name="action"]', "cancel_selected")
    page.click('button[name="index"]')
    expect(page.locator("#totals")).to_be_visible()
    assert assert_amounts_formatted(page, where="the embedded confirmation page") > 10
    page.screenshot(path=ARTIFACTS / "embedded-cancel-confirmation.png", full_page=True)
    page.click("a.cancel-link")  # Back: nothing changes

    # Cancel three paid invoices: their payments become account credit.
    page.goto(f"{base_url}/admin/invoicing/invoice/?state__exact=paid")
    boxes = page.locator('input[name="_selected_action"]')
    for index in range(3):
        boxes.nth(index).check()
    page.select_option('select[name="action"]', "cancel_selected")
    page.click('button[name="index"]')
    page.locator("#invoices-to-cancel").wait_for()
    assert_amounts_formatted(page, where="the embedded confirmation of three paid invoices")
    page.click('input[type=submit][value="Continue"]')
    expect(page.locator(".messagelist .success")).to_contain_text("Cancelled 3 invoices")

    # The customer of a cancelled invoice: balance and ledger, exact.
    page.goto(f"{base_url}/admin/invoicing/invoice/?state__exact=cancelled")
    page.locator("#result_list tbody tr a").first.click()
    page.locator(".field-customer a, .field-customer .readonly a").first.click()
    wait_until(lambda: "/coworking/customer/" in page.url)
    assert assert_amounts_formatted(page, where="the embedded customer page") >= 3
    assert page.locator(".available-credit .money").count() >= 1  # checked with the others
    page.screenshot(path=ARTIFACTS / "embedded-customer.png", full_page=True)

    result = manage("reconcile", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"All \d+ invariants hold", result.stdout)
