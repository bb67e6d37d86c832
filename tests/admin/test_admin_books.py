"""The books in the admin: closing a period (its refusals as form errors), the VAT summary
page, and the chart of accounts whose codes staff edit."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission

from books.models import Account, ClosedPeriod
from tests.factories import CustomerFactory, UserFactory, issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def accountant(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="books",
            codename__in=[
                "add_closedperiod",
                "view_closedperiod",
                "view_journalentry",
                "view_account",
                "change_account",
                "export_journal",
            ],
        )
    )
    client.force_login(user)
    return user


def test_staff_close_a_period_and_an_overlapping_one_is_refused_on_the_form(client, accountant):
    customer = CustomerFactory()
    form = {"location": customer.location_id, "start": "2026-01-01", "end": "2026-01-31"}
    response = client.post("/admin/books/closedperiod/add/", form)
    assert response.status_code == 302
    period = ClosedPeriod.objects.get()
    assert (period.end, period.closed_by) == (datetime.date(2026, 1, 31), accountant)
    response = client.post("/admin/books/closedperiod/add/", {**form, "start": "2026-01-15"})
    assert response.status_code == 200
    assert "overlaps a period already closed" in response.content.decode()
    assert ClosedPeriod.objects.count() == 1


def test_the_vat_summary_page_shows_base_and_vat_per_rate_in_french(client, accountant):
    invoice = issued_invoice(
        specs=[("Desk", "1", "100.00", "21")], issue_date=datetime.date(2026, 2, 3)
    )
    response = client.get(
        "/admin/books/journalentry/vat-summary/",
        {"location": invoice.location_id, "start": "2026-02-01", "end": "2026-02-28"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Base imposable" in page
    assert re.search(r"<td>21[.,]00</td><td>100[.,]00</td><td>21[.,]00</td>", page), page[-3000:]


def test_an_account_code_is_edited_in_the_admin(client, accountant):
    invoice = issued_invoice(specs=[("Desk", "1", "10.00", "0")])
    account = Account.objects.get(location=invoice.location, purpose="receivable", key="")
    response = client.post(
        f"/admin/books/account/{account.pk}/change/", {"code": "1301", "label": "Debiteuren NL"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.code == "1301"


def test_without_the_export_permission_the_export_page_is_forbidden(client):
    invoice = issued_invoice(specs=[("Desk", "1", "10.00", "0")])  # a journal to export
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/books/journalentry/export/").status_code == 403
    today = invoice.issue_date.isoformat()
    query = {"location": invoice.location_id, "start": today, "end": today, "format": "csv"}
    response = client.get("/admin/books/journalentry/export/", query)
    assert response.status_code == 403
    assert not response.has_header("Content-Disposition")
    assert invoice.number.encode() not in response.content
