"""Every money event posts a balanced journal entry in its own transaction; the database
refuses an unbalanced entry at commit and any change to what was posted."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from djmoney.money import Money

from books.models import Account, Journal, JournalEntry, JournalLine, Purpose
from books.posting import EntryHead, Leg, post
from books.services import journal_build
from coworking import events
from credits.models import Refund
from credits.reconciliation import reconcile
from credits.services import Allocation, invoice_cancel, refund_record
from invoicing.models import Channel
from invoicing.services import payment_record
from tests.factories import (
    CustomerFactory,
    french_location,
    issued_invoice,
    reverse_charge_to_an_eu_business,
    usd_from_a_euro_location,
)

pytestmark = pytest.mark.django_db


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def lines_of(source: str) -> list[tuple]:
    return list(
        JournalLine.objects.filter(entry__source=source)
        .order_by("position")
        .values_list("account_code", "debit", "credit")
    )


def assert_books_reconcile():
    breaches = {name: found for name, found in reconcile().items() if found}
    assert breaches == {}


def test_an_invoice_posts_receivable_revenue_and_vat_per_rate_in_the_sales_journal():
    customer = CustomerFactory(location=french_location())
    invoice = issued_invoice(
        customer=customer,
        specs=[("Desk", "1", "300.00", "20"), ("Coffee", "2", "10.00", "10")],
    )
    entry = JournalEntry.objects.get(source=f"invoice:{invoice.pk}")
    assert (entry.journal, entry.number, entry.document_number) == ("sales", 1, invoice.number)
    assert lines_of(entry.source) == [
        ("706000", Decimal("0"), Decimal("20.00")),
        ("706000", Decimal("0"), Decimal("300.00")),
        ("445710", Decimal("0"), Decimal("2.00")),
        ("445710", Decimal("0"), Decimal("60.00")),
        ("411000", Decimal("382.00"), Decimal("0")),
    ]
    assert JournalLine.objects.get(entry=entry, account_code="411000").customer == customer
    assert_books_reconcile()


def test_payments_credit_notes_refunds_and_applied_credit_each_post_and_reconcile():
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "21")], paid="all")
    payment = invoice.payments.get()
    assert lines_of(f"payment:{payment.pk}") == [
        ("1100", Decimal("121.00"), Decimal("0")),
        ("1300", Decimal("0"), Decimal("121.00")),
    ]
    note = invoice_cancel(
        invoice=invoice,
        actor=None,
        channel=Channel.CLI,
        allocation=Allocation(refund=eur("21.00")),
    )
    # Paid in full: nothing is due, so 100 goes to account credit and 21 is paid back.
    assert lines_of(f"credit_note:{note.pk}") == [
        ("8000", Decimal("100.00"), Decimal("0")),
        ("1500", Decimal("21.00"), Decimal("0")),
        ("1310", Decimal("0"), Decimal("100.00")),
        ("1320", Decimal("0"), Decimal("21.00")),
    ]
    refund = Refund.objects.get(credit_note=note)
    assert lines_of(f"refund:{refund.pk}") == [
        ("1320", Decimal("21.00"), Decimal("0")),
        ("1100", Decimal("0"), Decimal("21.00")),
    ]
    second = issued_invoice(customer=invoice.customer, specs=[("Desk", "1", "50.00", "0")])
    applied = second.payments.get()
    assert lines_of(f"credit_applied:{applied.pk}") == [
        ("1310", Decimal("50.00"), Decimal("0")),
        ("1300", Decimal("0"), Decimal("50.00")),
    ]
    later = refund_record(customer=invoice.customer, amount=eur("30.00"), actor=None, channel="cli")
    assert lines_of(f"refund:{later.pk}") == [
        ("1310", Decimal("30.00"), Decimal("0")),
        ("1100", Decimal("0"), Decimal("30.00")),
    ]
    journals = dict(
        JournalEntry.objects.values_list("source", "journal").filter(
            source__in=[f"credit_applied:{applied.pk}", f"refund:{later.pk}"]
        )
    )
    assert journals == {f"credit_applied:{applied.pk}": "misc", f"refund:{later.pk}": "bank"}
    assert_books_reconcile()


def test_a_foreign_currency_invoice_posts_its_stated_vat_and_clears_at_its_rate():
    invoice = usd_from_a_euro_location()
    entry = JournalEntry.objects.get(source=f"invoice:{invoice.pk}")
    vat = JournalLine.objects.filter(entry=entry, purpose=Purpose.OUTPUT_VAT)
    assert sum(line.credit for line in vat) == invoice.tax_total_vat_currency
    assert {line.currency for line in entry.lines.all()} == {"USD"}
    assert entry.currency == "EUR"
    payment_record(invoice=invoice, amount=Money(Decimal("100.00"), "USD"))
    payment_record(invoice=invoice, amount=invoice.total - Money(Decimal("100.00"), "USD"))
    receivable = JournalLine.objects.filter(purpose=Purpose.RECEIVABLE, lettering=invoice.number)
    # Settled in full: nothing left in either currency, no rounding residue.
    assert sum(line.amount_currency for line in receivable) == 0
    assert sum(line.debit - line.credit for line in receivable) == 0
    assert_books_reconcile()


def test_reverse_charge_revenue_goes_to_its_own_account_with_no_vat():
    invoice = reverse_charge_to_an_eu_business()
    entry = JournalEntry.objects.get(source=f"invoice:{invoice.pk}")
    revenue = JournalLine.objects.get(entry=entry, purpose=Purpose.REVENUE)
    assert (revenue.account_code, revenue.vat_category) == ("8100", "AE")
    assert not JournalLine.objects.filter(entry=entry, purpose=Purpose.OUTPUT_VAT).exists()


def test_entries_are_numbered_without_gaps_per_journal_location_and_year():
    customer = CustomerFactory()
    for _ in range(3):
        issued_invoice(customer=customer, specs=[("Desk", "1", "10.00", "0")], paid="all")
    other = issued_invoice(specs=[("Desk", "1", "10.00", "0")])
    numbers = list(
        JournalEntry.objects.filter(location=customer.location)
        .order_by("journal", "number")
        .values_list("journal", "number")
    )
    assert numbers == [
        ("bank", 1),
        ("bank", 2),
        ("bank", 3),
        ("sales", 1),
        ("sales", 2),
        ("sales", 3),
    ]
    assert JournalEntry.objects.get(source=f"invoice:{other.pk}").number == 1


def test_a_changed_account_code_does_not_rewrite_what_was_posted():
    invoice = issued_invoice(specs=[("Desk", "1", "10.00", "0")])
    account = Account.objects.get(location=invoice.location, purpose=Purpose.RECEIVABLE)
    account.code = "1399"
    account.save()
    assert JournalLine.objects.get(purpose=Purpose.RECEIVABLE).account_code == "1300"
    issued_invoice(customer=invoice.customer, specs=[("Desk", "1", "10.00", "0")])
    codes = JournalLine.objects.filter(purpose=Purpose.RECEIVABLE).order_by("pk")
    assert [line.account_code for line in codes] == ["1300", "1399"]


def test_the_database_refuses_an_unbalanced_entry_at_commit():
    customer = CustomerFactory()
    head = EntryHead(
        location=customer.location,
        journal=Journal.MISC,
        date=datetime.date(2026, 5, 1),
        source="test:unbalanced",
        label="Unbalanced",
    )
    entry = post(
        head=head,
        legs=[Leg(purpose=Purpose.BANK, amount=Decimal("10.00"), currency="EUR", balances=True)],
    )
    JournalLine.objects.create(
        entry=entry,
        position=9,
        account=Account.objects.filter(location=customer.location).first(),
        account_code="X",
        account_label="X",
        purpose=Purpose.BANK,
        debit=Decimal("5.00"),
        currency="EUR",
        amount_currency=Decimal("5.00"),
    )
    with pytest.raises(IntegrityError, match="does not balance"):
        connection.check_constraints()  # SET CONSTRAINTS ALL IMMEDIATE: what commit runs


def test_the_database_refuses_to_change_or_delete_posted_lines():
    issued_invoice(specs=[("Desk", "1", "10.00", "0")])
    line = JournalLine.objects.first()
    for sql in (
        "UPDATE books_journalline SET debit = debit + 1 WHERE id = %s",
        "DELETE FROM books_journalline WHERE id = %s",
        "UPDATE books_journalentry SET date = date - 1 WHERE id = (SELECT entry_id FROM books_journalline WHERE id = %s)",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [line.pk])


def test_build_journal_posts_what_was_issued_before_the_books_and_reconciles():
    books = [
        handler
        for handlers_of in events._subscribers.values()
        for handler, _flag in handlers_of
        if handler.__module__ == "books.subscribers"
    ]
    saved = {key: list(value) for key, value in events._subscribers.items()}
    try:
        for key in events._subscribers:
            events._subscribers[key] = [h for h in events._subscribers[key] if h[0] not in books]
        invoice = issued_invoice(specs=[("Desk", "1", "100.00", "21")], paid="50.00")
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
        issued_invoice(customer=invoice.customer, specs=[("Desk", "1", "20.00", "0")])
        refund_record(customer=invoice.customer, amount=eur("10.00"), actor=None, channel="cli")
    finally:
        events._subscribers.clear()
        events._subscribers.update(saved)
    assert not JournalEntry.objects.exists()
    assert journal_build() == 6
    assert_books_reconcile()
    assert journal_build() == 0
