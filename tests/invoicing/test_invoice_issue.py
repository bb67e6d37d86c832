from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from coworking.models import LedgerEntry
from invoicing.calculations import totals_by_rate
from invoicing.errors import InvoiceHasNoLines, InvoiceNotDraft
from invoicing.models import Invoice
from invoicing.services import invoice_issue
from tests.factories import CustomerFactory, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db


def test_issue_numbers_freezes_totals_and_debits_the_ledger():
    customer = CustomerFactory(location__invoice_prefix="AMS")
    invoice = issued_invoice(customer=customer)

    assert invoice.state == Invoice.State.ISSUED
    assert invoice.sequence_number == 1
    assert invoice.number == f"AMS-{invoice.issue_date.year}-000001"
    # 320.00 @21% = 67.20 tax; 3 x 35.00 = 105.00 @9% = 9.45 tax
    assert invoice.net_total == Money("425.00", "EUR")
    assert invoice.tax_total == Money("76.65", "EUR")
    assert invoice.total == Money("501.65", "EUR")
    entry = LedgerEntry.objects.get(invoice=invoice)
    assert (entry.kind, entry.amount) == (LedgerEntry.Kind.INVOICE, Money("501.65", "EUR"))


def test_issuing_twice_is_refused():
    invoice = issued_invoice()
    with pytest.raises(InvoiceNotDraft):
        invoice_issue(invoice=invoice)
    assert LedgerEntry.objects.filter(invoice=invoice).count() == 1


def test_issuing_a_draft_without_lines_is_refused_and_changes_nothing():
    invoice = draft_invoice()
    invoice.lines.all().delete()
    with pytest.raises(InvoiceHasNoLines):
        invoice_issue(invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.DRAFT and invoice.number == ""
    assert not LedgerEntry.objects.exists()


def test_quantity_with_decimals_rounds_half_up_once_per_line():
    invoice = issued_invoice(specs=[("Printing", "3", "0.125", "21")])
    line = invoice.lines.get()
    assert line.net == Money("0.38", "EUR")  # 0.375 → 0.38
    assert line.tax == Money("0.08", "EUR")  # 0.0798 → 0.08
    assert invoice.total.amount == Decimal("0.46")


def test_issued_invoice_totals_are_the_sums_of_its_lines():
    invoice = issued_invoice(
        specs=[
            ("Meeting room", "1.5", "42.50", "9"),
            ("Printing", "7", "0.05", "21"),
            ("Desk", "1", "190.00", "21"),
        ]
    )
    groups = totals_by_rate(
        (ln.tax_rate, ln.net.amount, ln.tax.amount) for ln in invoice.lines.all()
    )
    assert [(g.rate, g.net, g.tax) for g in groups] == [
        (Decimal("9"), Decimal("63.75"), Decimal("5.74")),
        (Decimal("21"), Decimal("190.35"), Decimal("39.97")),
    ]
    assert invoice.net_total.amount == Decimal("254.10")
    assert invoice.tax_total.amount == Decimal("45.71")
    assert invoice.total.amount == Decimal("299.81")


def test_after_the_invoice_number_nothing_is_read_for_the_journal():
    """The location's counter row is locked from the number to the commit: the invoice's
    journal entry is worked out before it (``invoice.issuing``), only written after."""
    draft = draft_invoice()
    with CaptureQueriesContext(connection) as queries:
        invoice_issue(invoice=draft)
    sqls = [" ".join(query["sql"].split()) for query in queries.captured_queries]
    number = next(
        index
        for index, sql in enumerate(sqls)
        if "sequences_sequence" in sql and "'invoice:" in sql
    )
    before, locked = sqls[:number], sqls[number + 1 :]
    journal_reads = ('"books_', '"invoicing_invoiceline"', '"invoicing_invoiceallowancecharge"')
    assert any(name in sql for sql in before for name in journal_reads)
    assert [sql[:60] for sql in locked if sql.startswith("SELECT") and any(
        name in sql for name in (*journal_reads, '"invoicing_payment"')
    )] == []  # fmt: skip
    assert sum(sql.startswith('INSERT INTO "books_journal') for sql in locked) == 2


def test_issue_runs_the_same_queries_for_1_and_50_lines():
    customer = CustomerFactory()
    drafts = [
        draft_invoice(customer=customer, specs=[("Desk", "1", "10.00", "21")]),
        draft_invoice(
            customer=customer,
            specs=[(f"Line {i}", "1", "10.00", "21" if i % 2 else "9") for i in range(50)],
        ),
    ]
    issued_invoice(customer=customer)  # the location's chart and counters exist from here on
    counts = []
    for draft in drafts:
        with CaptureQueriesContext(connection) as queries:
            invoice_issue(invoice=draft)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Savepoint, the customer's lock, the invoice's (with its location, customer and the
    # customer's location), its lines, its discounts, the credit the customer holds and its
    # balance row, the bank account (once: the e-invoice check states the account the
    # invoice keeps), the journal entry's closed-period check and chart, the counter, the
    # previous number's date, the ledger entry and the balance row, the invoice, the journal
    # counter, the entry and its lines, the webhook outbox's event, release (20). The books
    # read the lines and discounts the service holds, not the database again.
    assert counts[0] == 20
