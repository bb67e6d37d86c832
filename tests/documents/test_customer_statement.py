"""The customer statement: the account over a period as a PDF, read back with pdftotext:
the opening balance, every entry of the period in document-date order with the running
balance, the closing balance and the credit available; in the customer's language; from the
customer page, where a period that is not one is a message, never a 500."""

import datetime
import io
from decimal import Decimal

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from coworking.documents.rendering import Formatter
from credits.services import invoice_cancel, refund_record
from invoicing.models import Channel
from invoicing.services import payment_record
from invoicing.statements import customer_statement, customer_statement_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user
from tests.helpers import normalise

pytestmark = pytest.mark.django_db


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def account():
    """Before the period: invoice A (121.00) and 100.00 paid on it (21.00 owed). In it: B
    (50.00) issued 5 Feb; C (100.00) issued 1 Mar and paid 2 Mar; today B and C cancelled
    (C's 100.00 becomes account credit), 40.00 of that credit refunded, and D (10.00)
    issued, paid at once from the credit."""
    customer = CustomerFactory(location=LocationFactory(), language="en", country="DE")
    a = issued_invoice(
        customer=customer,
        specs=[("Desk", "1", "100.00", "21")],
        issue_date=datetime.date(2026, 1, 10),
    )
    payment_record(invoice=a, amount=eur("100.00"), received_on=datetime.date(2026, 1, 20))
    b = issued_invoice(
        customer=customer,
        specs=[("Day pass", "2", "25.00", "0")],
        issue_date=datetime.date(2026, 2, 5),
    )
    c = issued_invoice(
        customer=customer,
        specs=[("Office", "1", "100.00", "0")],
        issue_date=datetime.date(2026, 3, 1),
    )
    payment_record(invoice=c, amount=eur("100.00"), received_on=datetime.date(2026, 3, 2))
    invoice_cancel(invoice=b, actor=None, channel=Channel.ADMIN)
    invoice_cancel(invoice=c, actor=None, channel=Channel.ADMIN)
    refund_record(
        customer=customer,
        amount=eur("40.00"),
        actor=None,
        channel=Channel.ADMIN,
        reference="TRF-42",
    )
    d = issued_invoice(customer=customer, specs=[("Printing", "1", "10.00", "0")])
    return customer, (a, b, c, d)


def test_the_statement_opens_runs_and_closes_per_currency(account):
    customer, _invoices = account
    (eur_statement,) = customer_statement(
        customer=customer, start=datetime.date(2026, 2, 1), end=timezone.localdate()
    )

    assert eur_statement.opening == eur("21.00")
    assert [
        (row.entry.kind, row.entry.amount.amount, row.balance.amount)
        for row in eur_statement.entries
    ] == [
        ("invoice", Decimal("50.00"), Decimal("71.00")),
        ("invoice", Decimal("100.00"), Decimal("171.00")),
        ("payment", Decimal("-100.00"), Decimal("71.00")),
        ("credit_note", Decimal("-50.00"), Decimal("21.00")),
        ("credit_note", Decimal("-100.00"), Decimal("-79.00")),
        ("refund", Decimal("40.00"), Decimal("-39.00")),
        ("invoice", Decimal("10.00"), Decimal("-29.00")),
    ]
    assert [row.credit_applied for row in eur_statement.entries if row.credit_applied] == [
        eur("10.00")
    ]
    assert eur_statement.closing == eur("-29.00")
    # 100.00 kept as credit, 40.00 refunded, 10.00 applied to D.
    assert eur_statement.available_credit == eur("50.00")


def statement_text(customer) -> str:
    """The text of the statement from 1 February to today."""
    today = timezone.localdate()
    data = customer_statement_pdf_bytes(
        customer=customer, start=datetime.date(2026, 2, 1), end=today, today=today
    )
    return " ".join(normalise(pdf_text(data)).split())


def test_the_pdf_states_each_figure_in_the_customers_language(account):
    customer, (_a, b, c, d) = account

    text = statement_text(customer)

    assert "Statement of account" in text and customer.billing_name in text and "Germany" in text
    assert "Opening balance €21.00" in text
    assert f"5 February 2026 Invoice issued {b.number} €50.00 €71.00" in text
    assert f"1 March 2026 Invoice issued {c.number} €100.00 €171.00" in text
    assert f"2 March 2026 Payment received {c.number} -€100.00 €71.00" in text
    assert "Credit refunded TRF-42 €40.00 -€39.00" in text
    # The document cell holds two lines (the number, the credit applied): pdftotext puts
    # the number above the row and the note below it.
    today = Formatter("en").date(timezone.localdate())
    assert f"{d.number} {today} Invoice issued €10.00 -€29.00" in text
    assert "-€29.00 account credit applied: €10.00" in text
    assert "Closing balance -€29.00" in text
    assert "Account credit available €50.00" in text
    # Document-date order: the entries dated before the period are in the opening balance.
    assert text.index("5 February 2026") < text.index("1 March 2026") < text.index("2 March 2026")
    assert "10 January 2026" not in text

    customer.language = "de"
    customer.save(update_fields=["language"])
    german = statement_text(customer)
    assert "Kontoauszug" in german and "Anfangssaldo 21,00 €" in german
    assert "Endsaldo -29,00 €" in german and "Verfügbares Guthaben 50,00 €" in german
    assert "Guthaben verrechnet: 10,00 €" in german
    assert "Deutschland" in german


def test_the_customer_page_offers_the_statement_and_refuses_a_period_that_is_not_one(
    client, account
):
    customer, _invoices = account
    client.force_login(staff_user())
    page = client.get(
        reverse("admin:coworking_customer_change", args=[customer.pk])
    ).content.decode()
    url = reverse("admin:coworking_customer_statement", args=[customer.pk])
    assert f'action="{url}"' in page

    response = client.get(url, {"start": "2026-02-01", "end": timezone.localdate().isoformat()})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]

    for query in ({"start": "2026-05-01", "end": "2026-02-01"}, {"start": "yesterday"}, {}):
        response = client.get(url, query, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == reverse(
            "admin:coworking_customer_change", args=[customer.pk]
        )
        assert "No statement:" in response.content.decode()


def test_a_long_statement_is_rendered_in_parts_and_numbered_across_them(account, monkeypatch):
    """Two entries a part here (250 in production): the same rows and figures, one head,
    each part after the first opening on the balance brought forward, and the pages numbered
    "Page i of n" across the parts."""
    customer, (_a, b, c, _d) = account
    whole = statement_text(customer)
    monkeypatch.setattr("invoicing.statements.STATEMENT_PART_ROWS", 2)
    today = timezone.localdate()
    data = customer_statement_pdf_bytes(
        customer=customer, start=datetime.date(2026, 2, 1), end=today, today=today
    )
    text = " ".join(normalise(pdf_text(data)).split())

    pages = pypdf.PdfReader(io.BytesIO(data)).pages
    assert len(pages) == 4  # seven entries: four parts of a page each
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 4" in " ".join(page.extract_text().split())
    assert text.count("CUSTOMER") == 1 and text.count("Period") == 1  # the head, once
    assert text.count("Opening balance €21.00") == 1
    assert text.count("Closing balance -€29.00") == 1 and "Account credit available €50.00" in text
    assert text.count("Balance brought forward") == 3
    assert f"Balance brought forward €171.00 2 March 2026 Payment received {c.number}" in text
    assert f"5 February 2026 Invoice issued {b.number} €50.00 €71.00" in text
    for line in ("Credit refunded TRF-42 €40.00 -€39.00", "-€29.00 account credit applied"):
        assert line in whole and line in text
