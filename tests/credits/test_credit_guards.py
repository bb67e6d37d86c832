"""The database itself refuses over-credit (raw SQL, no ORM): a credit line beyond its invoice
line, a rate the invoice does not have, another invoice's line, a note that does not add up;
and credit notes stay frozen."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from credits.models import CreditNote
from credits.services import LineCredit, credit_note_issue
from invoicing.models import Channel
from tests.factories import issued_invoice

pytestmark = pytest.mark.django_db

REFUSED = (InternalError, IntegrityError)
LINE_COLUMNS = (
    "credit_note_id, invoice_line_id, position, description, quantity, unit_price, "
    "unit_price_currency, tax_rate, net, net_currency, tax, tax_currency, vat_category, "
    "vat_exemption_reason, vat_exemption_reason_code"
)


def refused(sql: str, params=()) -> bool:
    """Run ``sql`` and what commit would check (deferred constraints made immediate)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except REFUSED:
        return True
    return False


@pytest.fixture
def credited():
    """The day-pass line of an invoice with 5 day passes (21%) and a desk (9%), and the
    credit note that credits 2 of the passes."""
    invoice = issued_invoice(specs=[("Day pass", "5", "25.00", "21"), ("Desk", "1", "300", "9")])
    passes = invoice.lines.get(position=1)
    note = credit_note_issue(
        invoice=invoice,
        lines=[LineCredit(passes.pk, Decimal("2"))],
        actor=None,
        channel=Channel.CLI,
    )
    return passes, note


def add_line(note_id, invoice_line_id, *, quantity, net, tax, rate="21", category="S"):
    return (
        f"INSERT INTO credits_creditnoteline ({LINE_COLUMNS}) VALUES "
        "(%s, %s, 9, 'x', %s, 25, 'EUR', %s, %s, 'EUR', %s, 'EUR', %s, '', '')",
        [
            note_id,
            invoice_line_id,
            -Decimal(quantity),
            rate,
            -Decimal(net),
            -Decimal(tax),
            category,
        ],
    )


def test_a_line_credited_beyond_its_quantity_is_refused(credited):
    passes, note = credited
    assert refused(*add_line(note.pk, passes.pk, quantity="4", net="0", tax="0"))
    assert not refused(*add_line(note.pk, passes.pk, quantity="3", net="0", tax="0"))


def test_a_line_credited_beyond_its_net_or_tax_is_refused(credited):
    passes, note = credited
    assert refused(*add_line(note.pk, passes.pk, quantity="1", net="75.01", tax="0"))
    assert refused(*add_line(note.pk, passes.pk, quantity="1", net="0", tax="15.76"))


def test_a_rate_credited_beyond_what_it_holds_or_absent_is_refused(credited):
    _, note = credited
    # A free amount (no invoice line) at 21%: 75.00 net is left there, not 75.01.
    assert refused(*add_line(note.pk, None, quantity="1", net="75.01", tax="0"))
    assert refused(*add_line(note.pk, None, quantity="1", net="1", tax="0", rate="20"))


def test_a_line_of_another_invoice_is_refused(credited):
    _, note = credited
    other = issued_invoice(specs=[("Day pass", "5", "25.00", "21")]).lines.get()
    assert refused(*add_line(note.pk, other.pk, quantity="1", net="1", tax="0"))


def test_a_credit_note_that_does_not_add_up_to_its_lines_is_refused_at_commit(credited):
    _, note = credited
    fields = [
        f.column
        for f in CreditNote._meta.concrete_fields
        if not f.primary_key and f.column not in ("number", "sequence_number")
    ]
    sql = (
        f"INSERT INTO credits_creditnote ({', '.join(fields)}, number, sequence_number) "
        f"SELECT {', '.join(fields)}, '', NULL FROM credits_creditnote WHERE id = %s"
    )
    assert refused(sql, [note.pk])


def test_the_service_s_own_notes_pass_the_same_checks(credited):
    passes, note = credited
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending is refused
    assert note.lines.get().invoice_line_id == passes.pk


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE credits_creditnote SET reason_code = 'goodwill' WHERE id = %s",
        "UPDATE credits_creditnote SET account_credit_amount = 1 WHERE id = %s",
        "UPDATE credits_creditnote SET sequence_number = sequence_number + 100 WHERE id = %s",
        "UPDATE credits_creditnoteline SET quantity = -1 WHERE credit_note_id = %s",
        "DELETE FROM credits_creditnoteline WHERE credit_note_id = %s",
        "DELETE FROM credits_creditnote WHERE id = %s",
    ],
)
def test_partial_credit_notes_stay_frozen(credited, sql):
    _, note = credited
    assert refused(sql, [note.pk])
