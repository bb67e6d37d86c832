"""One way to write a date per admin language: the customer page's ledger writes dates as
the rest of the admin does, and the statement's period boxes show and read the language's
own date format, whatever the browser's locale."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, UserFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

# language → (the ledger's 7 December 2026 (as DATE_FORMAT writes it), 1 January typed in)
WRITTEN = {
    "en": ("7 Dec 2026", "01/01/{year}"),
    "fr": ("7 décembre 2026", "01/01/{year}"),
    "nl": ("7 december 2026", "01-01-{year}"),
}


@pytest.fixture
def customer(client):
    client.force_login(staff_user())
    customer = CustomerFactory()
    issued_invoice(customer=customer, issue_date=datetime.date(2026, 12, 7))
    return customer


@pytest.mark.parametrize("language", list(WRITTEN))
def test_the_ledger_writes_dates_like_the_rest_of_the_admin(client, customer, language):
    html = client.get(
        reverse("admin:coworking_customer_change", args=[customer.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    ledger = html[html.index('id="ledger"') :]
    written, _typed = WRITTEN[language]
    assert f">{written}</td>" in ledger
    assert "07/12/2026" not in ledger and "7-12-2026" not in ledger


@pytest.mark.parametrize("language", list(WRITTEN))
def test_the_statement_period_is_typed_in_the_languages_date_format(client, customer, language):
    page = client.get(
        reverse("admin:coworking_customer_change", args=[customer.pk]),
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    form = page[
        page.index('id="statement-form"') : page.index("</form>", page.index('id="statement-form"'))
    ]
    today = timezone.localdate()
    _written, typed = WRITTEN[language]
    start = typed.format(year=today.year)
    # Text boxes in the language's format: not the browser's date box (its own locale).
    assert 'type="date"' not in form
    assert re.search(rf'<input type="text" name="start" value="{re.escape(start)}"', form), form
    assert 'id="statement-start"' in form and 'id="statement-end"' in form

    response = client.get(
        reverse("admin:coworking_customer_statement", args=[customer.pk]),
        {"start": start, "end": today.isoformat()},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert f"-{today.year}-01-01-" in response["Content-Disposition"]


@pytest.mark.parametrize("url", ["admin:books_journalentry_export", "admin:books_closedperiod_add"])
def test_the_books_period_boxes_are_typed_in_the_languages_date_format(client, url):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(reverse(url), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert 'type="date"' not in html  # the browser's box follows the browser's locale
    assert re.search(r'<input type="text" name="start"[^>]*required', html), html
    assert re.search(r'<input type="text" name="end"[^>]*required', html)
