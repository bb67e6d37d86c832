"""A closed period takes nothing more: a back-dated invoice, payment or credit note is
refused with a sentence naming the period, and nothing of it is written."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from djmoney.money import Money

from books.errors import InvalidPeriod, PeriodClosed
from books.models import ClosedPeriod, JournalEntry
from books.services import period_close
from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice, Payment
from invoicing.services import invoice_issue, payment_record
from tests.factories import CustomerFactory, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db

JUNE = (datetime.date(2026, 6, 1), datetime.date(2026, 6, 30))
SENTENCE = "are closed from 2026-06-01 to 2026-06-30: nothing dated 2026-06-15 can be recorded"


@pytest.fixture
def customer():
    return CustomerFactory()


@pytest.fixture
def june_closed(customer):
    return period_close(location=customer.location, start=JUNE[0], end=JUNE[1], actor=None)


def test_a_back_dated_invoice_is_refused_and_takes_no_number(customer, june_closed):
    draft = draft_invoice(customer=customer)
    with pytest.raises(PeriodClosed, match=SENTENCE):
        invoice_issue(invoice=draft, issue_date=datetime.date(2026, 6, 15))
    draft.refresh_from_db()
    assert (draft.state, draft.number) == (Invoice.State.DRAFT, "")
    assert not JournalEntry.objects.exists()
    issued = invoice_issue(invoice=draft, issue_date=datetime.date(2026, 7, 1))
    assert issued.sequence_number == 1


def test_a_back_dated_payment_is_refused(customer, june_closed):
    invoice = issued_invoice(customer=customer, issue_date=datetime.date(2026, 5, 20))
    with pytest.raises(PeriodClosed, match=SENTENCE):
        payment_record(
            invoice=invoice,
            amount=Money(Decimal("10.00"), "EUR"),
            received_on=JUNE[0].replace(day=15),
        )
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_paid.amount == 0


def test_a_credit_note_dated_in_a_closed_period_is_refused(customer, june_closed, monkeypatch):
    invoice = issued_invoice(customer=customer, issue_date=datetime.date(2026, 5, 20))
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2026, 6, 15))
    with pytest.raises(PeriodClosed, match=SENTENCE):
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    assert not CreditNote.objects.exists()
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED


def test_the_database_refuses_an_entry_in_a_closed_period(customer, june_closed):
    issued_invoice(customer=customer, issue_date=datetime.date(2026, 7, 2))
    sql = (
        "INSERT INTO books_journalentry (location_id, journal, fiscal_year, number, date, "
        "currency, document_number, corrects, label, source, posted_at) "
        "VALUES (%s, 'misc', 2026, 99, '2026-06-15', 'EUR', '', '', 'x', 'x', now())"
    )
    with (
        pytest.raises(DatabaseError, match="closed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [customer.location_id])


def test_periods_cannot_overlap_end_in_the_future_or_change(customer, june_closed):
    with pytest.raises(InvalidPeriod, match="overlaps"):
        period_close(
            location=customer.location,
            start=datetime.date(2026, 6, 30),
            end=datetime.date(2026, 7, 31),
            actor=None,
        )
    with pytest.raises(InvalidPeriod, match="ended"):
        period_close(
            location=customer.location,
            start=timezone.localdate(),
            end=timezone.localdate(),
            actor=None,
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM books_closedperiod WHERE id = %s", [june_closed.pk])
    assert ClosedPeriod.objects.count() == 1
