"""The database itself refuses to change issued documents and the ledger (raw SQL, no ORM)."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.urls import reverse

from coworking.models import LedgerEntry
from coworking.numbering import DocumentType, last_number, sequence_name
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from invoicing.services import payment_record
from tests.factories import draft_invoice, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

REFUSED = (InternalError, IntegrityError)


def refused(sql: str, params=()) -> bool:
    """Run ``sql`` in a savepoint and say whether the database refused it, counting the
    checks it defers to commit (run at once here by ``SET CONSTRAINTS ALL IMMEDIATE``)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except REFUSED:
        return True
    return False


@pytest.fixture
def cancelled():
    invoice = issued_invoice(paid="all")
    credit_note = invoice_cancel(invoice=invoice, actor=staff_user(), channel=Channel.CLI)
    return invoice, credit_note


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE invoicing_invoice SET total = total + 1, net_total = net_total + 1 WHERE id = %s",
        "UPDATE invoicing_invoice SET number = 'X-1' WHERE id = %s",
        "UPDATE invoicing_invoice SET currency = 'GBP', total_currency = 'GBP', net_total_currency = 'GBP', tax_total_currency = 'GBP', amount_paid_currency = 'GBP' WHERE id = %s",
        "UPDATE invoicing_invoice SET issue_date = issue_date - 1 WHERE id = %s",
        "UPDATE invoicing_invoice SET issued_at = issued_at - interval '1 day' WHERE id = %s",
        "DELETE FROM invoicing_invoice WHERE id = %s",
        "UPDATE invoicing_invoiceline SET net = net + 1, unit_price = unit_price + 1 WHERE invoice_id = %s",
        "DELETE FROM invoicing_invoiceline WHERE invoice_id = %s",
        "INSERT INTO invoicing_invoiceline (invoice_id, position, description, quantity, unit_price, unit_price_currency, tax_rate, net, net_currency, tax, tax_currency) VALUES (%s, 99, 'x', 1, 1, 'EUR', 0, 1, 'EUR', 0, 'EUR')",
        "UPDATE coworking_ledgerentry SET amount = amount - 1 WHERE id = "
        "(SELECT ledger_entry_id FROM invoicing_invoice WHERE id = %s)",
        "DELETE FROM coworking_ledgerentry WHERE id = "
        "(SELECT ledger_entry_id FROM invoicing_invoice WHERE id = %s)",
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
        # Its time of issue (``created_at``, shown as "issued at"), as an invoice's issued_at.
        "UPDATE credits_creditnote SET created_at = created_at - interval '1 day' WHERE id = %(cn)s",
        "DELETE FROM credits_creditnote WHERE id = %(cn)s",
        "UPDATE credits_creditnoteline SET net = net - 1 WHERE credit_note_id = %(cn)s",
        "DELETE FROM credits_creditnoteline WHERE credit_note_id = %(cn)s",
        "UPDATE credits_cancellationevent SET reason = 'x' WHERE invoice_id = %(invoice)s",
        "DELETE FROM credits_cancellationevent WHERE invoice_id = %(invoice)s",
        "UPDATE invoicing_invoice SET state = 'paid', cancelled_at = NULL WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET cancellation_reason = 'x' WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET cancellation_channel = 'api' WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET cancelled_at = cancelled_at - interval '1 day' WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET cancelled_by_id = NULL WHERE id = %(invoice)s",
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


@pytest.mark.parametrize("table", ["credits_creditnote", "invoicing_invoice"])
def test_a_recorded_pdf_cannot_be_pointed_at_another_documents_pdf(table):
    """Once a document's PDF is recorded, its file and SHA-256 stay: another document's
    file would otherwise be downloaded and e-mailed as this one."""
    pks = []
    for _ in range(2):
        invoice = issued_invoice()
        pks.append(
            invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI).pk
            if table == "credits_creditnote"
            else invoice.pk
        )
    for n, pk in enumerate(pks):  # the first recording of each is allowed
        assert not refused(
            f"UPDATE {table} SET pdf_status = 'ready', pdf_sha256 = repeat(%s, 64), "
            "pdf_file = %s, pdf_size = 1 WHERE id = %s",
            [str(n), f"doc-{n}.pdf", pk],
        )
    mine, other = pks
    assert refused(
        f"UPDATE {table} SET (pdf_file, pdf_sha256) = "
        f"(SELECT pdf_file, pdf_sha256 FROM {table} WHERE id = %s) WHERE id = %s",
        [other, mine],
    )
    assert refused(f"UPDATE {table} SET pdf_file = 'doc-1.pdf' WHERE id = %s", [mine])
    assert refused(f"UPDATE {table} SET pdf_sha256 = repeat('1', 64) WHERE id = %s", [mine])
    # The rest of the bookkeeping still moves (a lost file goes back to pending).
    assert not refused(
        f"UPDATE {table} SET pdf_status = 'pending', pdf_error = 'lost' WHERE id = %s", [mine]
    )


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
        pk, table, lines, parent = (
            draft_invoice().pk,
            "invoicing_invoice",
            "invoicing_invoiceline",
            "invoice_id",
        )
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
        "INSERT INTO coworking_ledgerentry (customer_id, kind, amount, amount_currency, description, document_number, document_date, created_at) "
        "VALUES (%s, 'invoice', -1, 'EUR', 'x', %s, now(), now())",
        [invoice.customer_id, invoice.number],
    )


LEDGER_ENTRY = (
    "INSERT INTO coworking_ledgerentry (customer_id, kind, amount, amount_currency, "
    "description, document_number, document_date, created_at) "
    "VALUES (%s, %s, %s, 'EUR', 'x', %s, now(), now())"
)
REFUND_ON = (
    "INSERT INTO credits_refund (customer_id, kind, amount, amount_currency, reference, "
    "channel, created_at, ledger_entry_id) VALUES (%s, 'refund', 5, 'EUR', '', 'cli', now(), "
    "{entry})"
)


def test_each_document_is_on_its_own_ledger_entry():
    """The entry names no document: each document points at its entry, and the database
    checks at commit that the entry is its own and that no entry lacks its document."""
    invoice = issued_invoice()
    customer = invoice.customer_id
    new_entry = LEDGER_ENTRY + " RETURNING id"
    # A refund on its own debit of 5.00 is what the service writes: accepted.
    assert not refused(
        f"WITH entry AS ({new_entry}) " + REFUND_ON.format(entry="(SELECT id FROM entry)"),
        [customer, "refund", 5, "", customer],
    )
    # The same refund on an entry of 4.00, or on the invoice's debit: refused.
    assert refused(
        f"WITH entry AS ({new_entry}) " + REFUND_ON.format(entry="(SELECT id FROM entry)"),
        [customer, "refund", 4, "", customer],
    )
    assert refused(REFUND_ON.format(entry="%s"), [customer, invoice.ledger_entry_id])
    # Entries no document points at.
    for kind, amount in (("invoice", 5), ("payment", -5), ("credit_note", -5), ("refund", 5)):
        assert refused(LEDGER_ENTRY, [customer, kind, amount, invoice.number])
    # An issued invoice keeps its debit.
    assert refused(
        "UPDATE invoicing_invoice SET ledger_entry_id = NULL WHERE id = %s", [invoice.pk]
    )


# --- The back doors found by the attack pass: each refused by the database itself ----------

PROTECTED_TABLES = [
    "invoicing_invoice",
    "invoicing_invoiceline",
    "invoicing_payment",
    "credits_creditnote",
    "credits_creditnoteline",
    "credits_cancellationevent",
    "coworking_ledgerentry",
    "sequences_sequence",
    "webhooks_event",
    "webhooks_eventstream",
    "webhooks_delivery",
    "webhooks_attempt",
]


@pytest.mark.django_db(transaction=True)
def test_truncate_is_refused():
    """TRUNCATE skips the row triggers that refuse DELETE, and CASCADE reaches every table
    that references the one named: each table of documents refuses it."""
    invoice = issued_invoice(paid="10.00")
    credit_note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    statements = [f"TRUNCATE {table} CASCADE" for table in PROTECTED_TABLES] + [
        "TRUNCATE coworking_location CASCADE",
        "TRUNCATE coworking_customer CASCADE",
    ]
    assert [sql for sql in statements if not refused(sql)] == []
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert LedgerEntry.objects.filter(credit_note=credit_note).exists()


@pytest.mark.django_db(transaction=True)
def test_credit_note_lines_cannot_be_added_after_issue():
    """The cancel writes the note's lines in its own transaction; once it has committed,
    no transaction can add one (invoice lines were already frozen at issue)."""
    invoice = issued_invoice()
    credit_note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    lines_before = credit_note.lines.count()
    assert refused(
        "INSERT INTO credits_creditnoteline (credit_note_id, position, description, quantity, "
        "unit_price, unit_price_currency, tax_rate, net, net_currency, tax, tax_currency) "
        "VALUES (%s, 99, 'x', -1, 0, 'EUR', 0, 0, 'EUR', 0, 'EUR')",
        [credit_note.pk],
    )
    assert refused(
        "INSERT INTO credits_creditnoteline (credit_note_id, position, description, quantity, "
        "unit_price, unit_price_currency, tax_rate, net, net_currency, tax, tax_currency) "
        "SELECT credit_note_id, position + 100, description, quantity, unit_price, "
        "unit_price_currency, tax_rate, net, net_currency, tax, tax_currency "
        "FROM credits_creditnoteline WHERE credit_note_id = %s",
        [credit_note.pk],
    )
    # Refreshing the note's row (its PDF bookkeeping may change) opens no door either.
    assert refused(
        "UPDATE credits_creditnote SET pdf_error = 'x' WHERE id = %(cn)s; "
        "INSERT INTO credits_creditnoteline (credit_note_id, position, description, quantity, "
        "unit_price, unit_price_currency, tax_rate, net, net_currency, tax, tax_currency) "
        "VALUES (%(cn)s, 99, 'x', -1, 0, 'EUR', 0, 0, 'EUR', 0, 'EUR')",
        {"cn": credit_note.pk},
    )
    assert credit_note.lines.count() == lines_before


def _series(invoice) -> str:
    return sequence_name(location_id=invoice.location_id, document_type=DocumentType.CREDIT_NOTE)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE sequences_sequence SET last = last - 1 WHERE name = %(series)s",
        "UPDATE sequences_sequence SET last = 0 WHERE name = %(series)s",
        "UPDATE sequences_sequence SET last = last + 2 WHERE name = %(series)s",
        "UPDATE sequences_sequence SET name = 'credit_note:999999' WHERE name = %(series)s",
        "DELETE FROM sequences_sequence WHERE name = %(series)s",
        # One up is the right step, but a number taken without its credit note is a gap.
        "UPDATE sequences_sequence SET last = last + 1 WHERE name = %(series)s",
        "INSERT INTO sequences_sequence (name, last) VALUES ('credit_note:999999', 50)",
        "INSERT INTO sequences_sequence (name, last) VALUES ('invoice:999999', 1)",
    ],
)
def test_a_number_series_only_grows_by_one_with_its_document(cancelled, sql):
    invoice, _credit_note = cancelled
    assert refused(sql, {"series": _series(invoice)})
    assert last_number(location_id=invoice.location_id, document_type=DocumentType.CREDIT_NOTE) == 1


def test_a_refused_lowering_leaves_later_cancels_working(cancelled):
    """A lowered counter would make every later cancel of the location fail on the unique
    number, so the lowering itself is refused and later cancels go on."""
    invoice, credit_note = cancelled
    assert refused(
        "UPDATE sequences_sequence SET last = last - 1 WHERE name = %s", [_series(invoice)]
    )
    following = issued_invoice(customer=invoice.customer)
    second = invoice_cancel(invoice=following, actor=None, channel=Channel.CLI)
    assert second.sequence_number == credit_note.sequence_number + 1


@pytest.mark.parametrize(
    "sql",
    [
        # Paid without a payment (the paid amount follows the state by a check constraint).
        "UPDATE invoicing_invoice SET state = 'paid', amount_paid = total WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET state = 'partially_paid', amount_paid = 1 WHERE id = %(invoice)s",
        # A payment the invoice does not count, or counted but not on the ledger.
        "INSERT INTO invoicing_payment (invoice_id, amount, amount_currency, method, received_on, "
        "reference, created_at) VALUES (%(invoice)s, 1, 'EUR', 'cash', now(), '', now())",
        "INSERT INTO invoicing_payment (invoice_id, amount, amount_currency, method, received_on, "
        "reference, created_at) VALUES (%(invoice)s, 1, 'EUR', 'cash', now(), '', now()); "
        "UPDATE invoicing_invoice SET state = 'partially_paid', amount_paid = 1 WHERE id = %(invoice)s",
        # Cancelled without its credit note.
        "UPDATE invoicing_invoice SET state = 'cancelled', cancelled_at = now() WHERE id = %(invoice)s",
        # A cancellation record on an invoice that is not cancelled.
        "UPDATE invoicing_invoice SET cancellation_reason = 'x' WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET cancellation_channel = 'api' WHERE id = %(invoice)s",
    ],
)
def test_an_issued_invoice_changes_state_only_with_its_payments_or_credit_note(sql):
    invoice = issued_invoice()
    assert refused(sql, {"invoice": invoice.pk})
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_paid.amount) == (Invoice.State.ISSUED, 0)


def test_the_services_pass_every_deferred_check():
    """Issuing, paying (partly, then the rest) and cancelling keep every check that the
    database defers to commit."""
    invoice = issued_invoice(paid="10.00")
    payment_record(invoice=invoice, amount=invoice.amount_due)
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.CANCELLED


@pytest.mark.parametrize("prefix", ["invoice_prefix", "credit_note_prefix"])
def test_a_location_prefix_is_fixed_once_a_document_carries_it(prefix, client):
    # Documents first: ``refused`` makes the deferred checks immediate for the transaction.
    draft_only = draft_invoice().location
    invoice_only = issued_invoice().location
    invoice = issued_invoice()
    invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
    both = invoice.location

    change = f"UPDATE coworking_location SET {prefix} = 'NEW' || id WHERE id = %s"
    assert not refused(change, [draft_only.pk])  # a draft has no number yet
    # Invoices carry the invoice prefix only.
    assert refused(change, [invoice_only.pk]) == (prefix == "invoice_prefix")
    assert refused(change, [both.pk])
    assert not refused("UPDATE coworking_location SET name = 'Renamed' WHERE id = %s", [both.pk])

    # The admin shows it read-only then (a superuser's form has no field to change it).
    client.force_login(staff_user(is_superuser=True))
    page = client.get(reverse("admin:coworking_location_change", args=[both.pk])).content.decode()
    assert f'name="{prefix}"' not in page
    page = client.get(reverse("admin:coworking_location_change", args=[draft_only.pk]))
    assert f'name="{prefix}"' in page.content.decode()
