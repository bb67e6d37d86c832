"""The invoice page's summary: what was credited beside what was paid and what is due, and
the cancellation's rows only on a cancelled invoice (no empty rows on live ones)."""

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from credits.services import AmountCredit, credit_note_issue, invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import issued_invoice, line, staff_user

pytestmark = pytest.mark.django_db

# What the page of an issued invoice reads at most (session, user, permissions, the invoice,
# its lines, payments and credit notes, its customer and location...).
PAGE_QUERIES_MAX = 9

CANCELLATION_ROWS = ["cancelled_at", "cancelled_by", "cancellation_channel", "cancellation_reason"]


def page(client, invoice):
    client.force_login(staff_user(credit=True))
    response = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert response.status_code == 200
    return response.content.decode()


def row_text(html, field):
    match = re.search(rf'<div class="form-row field-{field}">(.*?)</div>\s*</div>', html, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip() if match else None


def test_the_summary_shows_what_was_credited(client):
    invoice = issued_invoice(specs=[("Office", "1", "500.00", "0")], paid="100.00")
    credit_note_issue(
        invoice=invoice,
        amount=AmountCredit(value=Money("150.00", "EUR"), tax_rate=Decimal("0")),
        actor=None,
        channel=Channel.SYSTEM,
    )
    html = page(client, invoice)
    assert row_text(html, "amount_paid_display").endswith("€100.00")
    assert row_text(html, "amount_credited_display").endswith("€150.00")
    assert row_text(html, "amount_due_display").endswith("€250.00")


def test_a_live_invoice_has_no_empty_cancellation_or_reference_rows(client):
    html = page(client, issued_invoice())
    for field in [*CANCELLATION_ROWS, "order_reference", "vat_currency", "vat_exchange_rate_display",
                  "tax_total_vat_currency", "pdf_error"]:  # fmt: skip
        assert row_text(html, field) is None, field
    assert row_text(html, "amount_credited_display").endswith("€0.00")


def test_the_lines_show_an_optional_column_only_when_a_line_fills_it(client):
    """Eighteen columns, most of them empty, made the page 1,450 pixels wide."""
    plain = page(client, issued_invoice())
    discounted = page(
        client,
        issued_invoice(
            specs=[
                line("Desk", "1", "320.00", "21", allowance="32.00", allowance_code="95"),
                ("Meeting room (hours)", "3", "35.00", "9"),
            ]
        ),
    )
    for column in ["allowance", "allowance_reason_code", "period_start", "vat_exemption_reason"]:
        assert f"column-{column}" not in plain, column
    assert re.search(r'class="column-allowance[ "]', discounted)
    assert "column-allowance_reason_code" in discounted
    assert "column-period_start" not in discounted
    assert "column-quantity_display" in plain and "column-description" in plain


def test_a_cancelled_invoice_shows_its_cancellation(client):
    invoice = issued_invoice(order_reference="PO-7")
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM, reason="Billed twice")
    html = page(client, invoice)
    for field in CANCELLATION_ROWS:
        assert row_text(html, field) is not None, field
    assert "Billed twice" in row_text(html, "cancellation_reason")
    assert "PO-7" in row_text(html, "order_reference")


def test_an_invoice_in_another_currency_shows_its_vat_conversion(client):
    html = page(client, issued_invoice(currency="USD"))
    assert row_text(html, "vat_exchange_rate_display") is not None
    assert row_text(html, "tax_total_vat_currency") is not None


def invoice_reads(client, invoice):
    """The page's queries, and those of them that read the invoice row itself. Content
    types are cached per process, as in a server after its first page: warmed here, since
    whether an earlier test of this worker left them cached (a flush clears them) depends
    on how the run was shared out."""
    client.force_login(staff_user(credit=True, cancel=True))
    ContentType.objects.get_for_model(Invoice)
    url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    queries = [query["sql"] for query in captured.captured_queries]
    reads = [
        sql
        for sql in queries
        if re.search(
            r'FROM "invoicing_invoice"\s+(LEFT OUTER JOIN .*)?WHERE "invoicing_invoice"."id" =', sql
        )
    ]
    return queries, reads


@pytest.mark.parametrize("cancelled", [False, True])
def test_the_invoice_page_reads_the_invoice_once(client, cancelled):
    invoice = issued_invoice(paid="10.00")
    if cancelled:
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    queries, reads = invoice_reads(client, invoice)
    assert len(reads) == 1, reads
    assert len(queries) <= PAGE_QUERIES_MAX, "\n".join(queries)


def test_the_discounts_table_shows_on_an_issued_invoice_only_when_it_has_some(client):
    from invoicing.document_allowances import AllowanceChargeInput

    plain = page(client, issued_invoice())
    discounted = page(
        client,
        issued_invoice(
            allowance_charges=[
                AllowanceChargeInput(
                    amount=Decimal("5.00"), tax_rate=Decimal("21"), reason="Loyalty"
                )
            ]
        ),
    )
    assert 'id="allowance_charges-group"' not in plain
    assert 'id="allowance_charges-group"' in discounted and "Loyalty" in discounted
