"""The database itself refuses to change issued documents and the ledger (raw SQL, no ORM)."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db

REFUSED = (InternalError, IntegrityError)


def refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except REFUSED:
        return True
    return False


@pytest.fixture
def cancelled():
    invoice = issued_invoice(paid="all")
    credit_note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    return invoice, credit_note


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE invoicing_invoice SET total = total + 1, net_total = net_total + 1 WHERE id = %s",
        "UPDATE invoicing_invoice SET number = 'X-1' WHERE id = %s",
        "UPDATE invoicing_invoice SET currency = 'GBP', total_currency = 'GBP', net_total_currency = 'GBP', tax_total_currency = 'GBP', amount_paid_currency = 'GBP' WHERE id = %s",
        "UPDATE invoicing_invoice SET issue_date = issue_date - 1 WHERE id = %s",
        "DELETE FROM invoicing_invoice WHERE id = %s",
        "UPDATE invoicing_invoiceline SET net = net + 1, unit_price = unit_price + 1 WHERE invoice_id = %s",
        "DELETE FROM invoicing_invoiceline WHERE invoice_id = %s",
        "INSERT INTO invoicing_invoiceline (invoice_id, position, description, quantity, unit_price, unit_price_currency, tax_rate, net, net_currency, tax, tax_currency) VALUES (%s, 99, 'x', 1, 1, 'EUR', 0, 1, 'EUR', 0, 'EUR')",
        "UPDATE coworking_ledgerentry SET amount = amount - 1 WHERE invoice_id = %s",
        "DELETE FROM coworking_ledgerentry WHERE invoice_id = %s",
        "UPDATE invoicing_payment SET amount = amount + 1 WHERE invoice_id = %s",
        "DELETE FROM invoicing_payment WHERE invoice_id = %s",
    ],
)
def test_issued_invoice_lines_payments_and_ledger_are_frozen(sql):
    invoice = issued_invoice(paid="10.00")
    assert refused(sql, [invoice.pk])
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE credits_creditnote SET total = total - 1, net_total = net_total - 1 WHERE id = %(cn)s",
        "UPDATE credits_creditnote SET number = 'CN-X' WHERE id = %(cn)s",
        "UPDATE credits_creditnote SET reason = 'rewritten' WHERE id = %(cn)s",
        "DELETE FROM credits_creditnote WHERE id = %(cn)s",
        "UPDATE credits_creditnoteline SET net = net - 1 WHERE credit_note_id = %(cn)s",
        "DELETE FROM credits_creditnoteline WHERE credit_note_id = %(cn)s",
        "UPDATE credits_cancellationevent SET reason = 'x' WHERE invoice_id = %(invoice)s",
        "DELETE FROM credits_cancellationevent WHERE invoice_id = %(invoice)s",
        "UPDATE invoicing_invoice SET state = 'paid', cancelled_at = NULL WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET cancellation_reason = 'x' WHERE id = %(invoice)s",
    ],
)
def test_credit_notes_their_lines_events_and_cancelled_invoices_are_frozen(cancelled, sql):
    invoice, credit_note = cancelled
    assert refused(sql, {"cn": credit_note.pk, "invoice": invoice.pk})


@pytest.mark.parametrize("table", ["credits_creditnote", "invoicing_invoice"])
def test_pdf_bookkeeping_of_issued_and_cancelled_documents_may_be_updated(cancelled, table):
    invoice, credit_note = cancelled
    pk = credit_note.pk if table == "credits_creditnote" else invoice.pk
    assert not refused(
        f"UPDATE {table} SET pdf_status = 'ready', pdf_sha256 = repeat('a', 64), "
        "pdf_file = 'x.pdf', pdf_size = 1, pdf_error = '', pdf_rendered_at = now() WHERE id = %s",
        [pk],
    )
    # ... but a ready PDF without its hash is refused, like any other inconsistent row.
    assert refused(f"UPDATE {table} SET pdf_sha256 = '' WHERE id = %s", [pk])


def test_drafts_stay_editable_and_deletable():
    invoice = draft_invoice()
    assert not refused(
        "UPDATE invoicing_invoiceline SET description = 'Edited' WHERE invoice_id = %s",
        [invoice.pk],
    )
    assert not refused("DELETE FROM invoicing_invoiceline WHERE invoice_id = %s", [invoice.pk])
    assert not refused("DELETE FROM invoicing_invoice WHERE id = %s", [invoice.pk])
    assert not Invoice.objects.filter(pk=invoice.pk).exists()


@pytest.mark.parametrize(
    "sql",
    [
        # Totals in another currency than the document's.
        "UPDATE {table} SET total_currency = 'GBP' WHERE id = %s",
        # A total that is not net + tax.
        "UPDATE {table} SET total = total + 1 WHERE id = %s",
        # A line in two currencies, or at an impossible tax rate.
        "UPDATE {lines} SET tax_currency = 'GBP' WHERE {parent} = %s",
        "UPDATE {lines} SET tax_rate = 100 WHERE {parent} = %s",
    ],
)
@pytest.mark.parametrize("document", ["invoice", "credit_note"])
def test_shared_document_constraints_hold_on_both_documents(sql, document):
    """The constraints of the abstract document and line hold on both tables: on a draft
    (no trigger stands in the way there), and on a credit note with its triggers off."""
    if document == "invoice":
        pk, table, lines, parent = draft_invoice().pk, "invoicing_invoice", "invoicing_invoiceline", "invoice_id"
        with connection.cursor() as cursor:  # a draft's totals are 0; give it real ones
            cursor.execute(
                "UPDATE invoicing_invoice SET net_total = 10, tax_total = 2, total = 12 WHERE id = %s",
                [pk],
            )
    else:
        invoice = issued_invoice()
        pk = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI).pk
        table, lines, parent = "credits_creditnote", "credits_creditnoteline", "credit_note_id"
        with connection.cursor() as cursor:  # triggers off (this test's transaction only)
            cursor.execute("SET LOCAL session_replication_role = replica")
    assert refused(sql.format(table=table, lines=lines, parent=parent), [pk])


def test_constraints_refuse_inconsistent_rows():
    invoice = issued_invoice()
    # A paid invoice whose paid amount is not its total breaks a check constraint.
    assert refused("UPDATE invoicing_invoice SET state = 'paid' WHERE id = %s", [invoice.pk])
    # A ledger entry with the wrong sign for its kind.
    assert refused(
        "INSERT INTO coworking_ledgerentry (customer_id, kind, amount, amount_currency, description, invoice_id, created_at) "
        "VALUES (%s, 'invoice', -1, 'EUR', 'x', %s, now())",
        [invoice.customer_id, invoice.pk],
    )
