"""A statement longer than one part (``STATEMENT_PART_ROWS``, two entries here) is recorded,
rendered by a Celery task on a real worker and Redis broker, and downloaded when ready,
with the same text as the synchronous render; a short one is still rendered in the request.
The page, its status and the download are for staff who may view the customer."""

import datetime
import re

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from coworking.documents.rendering import PdfRenderError
from invoicing.prepared_statements import PreparedStatement
from invoicing.services.statements import statement_prepare, statement_request
from invoicing.statements import customer_statement_pdf_bytes
from invoicing.tasks import purge_prepared_statements
from tests.conftest import broker_unreachable, pdf_text, wait_until
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    UserFactory,
    issued_invoice,
    staff_user,
)
from tests.helpers import normalise

START, END = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}
Status = PreparedStatement.Status


@pytest.fixture
def customer():
    """Three invoices in 2026: longer than a part of two entries, shorter than 250."""
    customer = CustomerFactory(location=LocationFactory(), language="en", country="DE")
    for day in (datetime.date(2026, 1, 10), datetime.date(2026, 2, 5), datetime.date(2026, 3, 1)):
        issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "21")], issue_date=day)
    return customer


@pytest.fixture
def two_a_part(monkeypatch):
    monkeypatch.setattr("invoicing.statements.STATEMENT_PART_ROWS", 2)


def text(data: bytes) -> str:
    return " ".join(normalise(pdf_text(data)).split())


def statement_url(customer) -> str:
    return reverse("admin:coworking_customer_statement", args=[customer.pk])


def urls(statement) -> tuple[str, str, str]:
    args = [statement.customer_id, statement.pk]
    return (
        reverse("admin:coworking_customer_prepared_statement", args=args),
        reverse("admin:coworking_customer_prepared_statement_status", args=args),
        reverse("admin:coworking_customer_prepared_statement_download", args=args),
    )


@pytest.mark.django_db(transaction=True)
def test_a_long_statement_is_prepared_by_the_task_then_downloaded(client, customer, two_a_part):
    app.control.purge()  # the invoice PDFs queued as the invoices were issued
    user = staff_user()
    client.force_login(user)

    response = client.get(statement_url(customer), PERIOD)

    statement = PreparedStatement.objects.get()
    page_url, status_url, download_url = urls(statement)
    assert response.status_code == 302 and response.url == page_url
    assert statement.status == Status.PENDING and not statement.pdf_file
    assert (statement.start, statement.end, statement.language) == (START, END, "en")
    assert statement.requested_by == user
    response = client.get(page_url)
    page = response.content.decode()
    assert "being prepared in the background" in page and 'id="statement-ready" hidden' in page
    nonce = re.search(r'<script nonce="([^"]+)">', page).group(1)  # the CSP allows it
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert client.get(status_url).json()["finished"] is False
    assert client.get(download_url).status_code == 404
    # Asked again (a reload, a double click): the same statement, prepared once.
    assert client.get(statement_url(customer), PERIOD).url == page_url

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        wait_until(lambda: client.get(status_url).json()["finished"], timeout=30)

    statement.refresh_from_db()
    assert statement.status == Status.READY and statement.finished_at is not None
    assert 'id="statement-ready" hidden' not in client.get(page_url).content.decode()
    download = client.get(download_url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    data = b"".join(download.streaming_content)
    today = timezone.localdate()
    inline = customer_statement_pdf_bytes(customer=customer, start=START, end=END, today=today)
    assert text(data) == text(inline) and "Page 2 of 2" in text(data)


@pytest.mark.django_db
def test_a_short_statement_is_still_rendered_in_the_request(client, customer):
    client.force_login(staff_user())

    response = client.get(statement_url(customer), PERIOD)

    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert not PreparedStatement.objects.exists()


@pytest.mark.django_db
def test_only_staff_who_may_view_the_customer_ask_for_see_or_download_it(
    client, customer, two_a_part
):
    statement = statement_request(customer=customer, start=START, end=END, actor=None)
    client.force_login(UserFactory(is_staff=True))

    assert client.get(statement_url(customer), PERIOD).status_code == 403
    for url in urls(statement):
        assert client.get(url).status_code == 403
    assert PreparedStatement.objects.count() == 1

    client.force_login(staff_user())
    other = CustomerFactory(location=customer.location)
    foreign = reverse("admin:coworking_customer_prepared_statement", args=[other.pk, statement.pk])
    assert client.get(foreign).status_code == 404


@pytest.mark.django_db
def test_the_period_is_checked_before_anything_is_recorded(client, customer, two_a_part):
    client.force_login(staff_user())
    change_page = reverse("admin:coworking_customer_change", args=[customer.pk])
    too_long = {"start": "2020-01-01", "end": "2026-12-31"}

    for query in ({"start": "2026-05-01", "end": "2026-02-01"}, too_long, {"start": "x"}):
        response = client.get(statement_url(customer), query, follow=True)
        assert response.redirect_chain[-1][0] == change_page
        assert "No statement:" in response.content.decode()
    assert not PreparedStatement.objects.exists()


@pytest.mark.django_db
def test_a_failed_render_stores_nothing_and_the_page_offers_to_try_again(
    client, customer, two_a_part, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**kwargs):
        raise PdfRenderError("WeasyPrint gave up")

    statement = statement_request(customer=customer, start=START, end=END, actor=None)
    monkeypatch.setattr("invoicing.services.statements.customer_statement_pdf_bytes", broken)

    statement = statement_prepare(statement_id=statement.pk)

    assert statement.status == Status.FAILED and not statement.pdf_file
    assert statement.error == "WeasyPrint gave up"
    client.force_login(staff_user())
    page_url, status_url, download_url = urls(statement)
    page = client.get(page_url).content.decode()
    assert "WeasyPrint gave up" in page and 'id="statement-retry" hidden' not in page
    assert client.get(status_url).json() == {
        "status": "failed",
        "status_label": "Failed",
        "finished": True,
        "error": "WeasyPrint gave up",
        "stalled": False,
    }
    assert client.get(download_url).status_code == 404

    # Try again with the broker down: a new statement, marked failed at once, never stuck.
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url)
    again = PreparedStatement.objects.exclude(pk=statement.pk).get()
    assert response.url == urls(again)[0]
    assert again.status == Status.FAILED and "task queue" in again.error
    assert not again.pdf_file


@pytest.mark.django_db
def test_a_statement_waiting_too_long_is_offered_again_and_a_finished_one_is_left_alone(
    client, customer, two_a_part
):
    statement = statement_request(customer=customer, start=START, end=END, actor=None)
    client.force_login(staff_user())
    page_url, status_url, _download = urls(statement)
    assert client.get(status_url).json()["stalled"] is False
    assert client.post(page_url).url == page_url  # still fresh: nothing asked again
    assert PreparedStatement.objects.count() == 1

    long_ago = timezone.now() - datetime.timedelta(minutes=20)
    PreparedStatement.objects.filter(pk=statement.pk).update(created_at=long_ago)
    assert client.get(status_url).json()["stalled"] is True
    response = client.post(page_url)

    statement.refresh_from_db()
    again = PreparedStatement.objects.exclude(pk=statement.pk).get()
    assert response.url == urls(again)[0] and again.status == Status.PENDING
    assert statement.status == Status.FAILED and not statement.pdf_file
    # A late task for the abandoned one renders nothing.
    assert statement_prepare(statement_id=statement.pk).status == Status.FAILED
    assert not PreparedStatement.objects.get(pk=statement.pk).pdf_file


@pytest.mark.django_db
def test_prepared_statements_older_than_the_kept_days_go_with_their_files(customer, two_a_part):
    old = statement_prepare(
        statement_id=statement_request(customer=customer, start=START, end=END, actor=None).pk
    )
    recent = statement_request(
        customer=customer, start=START, end=datetime.date(2026, 6, 30), actor=None
    )
    assert old.status == Status.READY and old.pdf_file.storage.exists(old.pdf_file.name)
    PreparedStatement.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=8)
    )

    assert purge_prepared_statements() == 1

    assert list(PreparedStatement.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not old.pdf_file.storage.exists(old.pdf_file.name)
