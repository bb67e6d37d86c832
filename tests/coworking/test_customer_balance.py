"""The per-customer, per-currency balance row: kept equal to the ledger by every posting,
read in constant queries, and checked by ``reconcile``."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from coworking.models import CustomerBalance, LedgerEntry
from coworking.money import MoneySum
from coworking.selectors import customer_balance
from credits.reconciliation import check_balance_rows
from credits.services import invoice_cancel, refund_record
from invoicing.selectors import available_credit
from invoicing.services import payment_record
from tests.factories import CustomerFactory, issued_invoice

pytestmark = pytest.mark.django_db


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def rows_and_ledger(customer) -> tuple[dict, dict]:
    rows = dict(
        CustomerBalance.objects.filter(customer=customer).values_list("amount_currency", "amount")
    )
    ledger = dict(
        LedgerEntry.objects.filter(customer=customer)
        .values_list("amount_currency")
        .annotate(MoneySum("amount"))
        .order_by()
    )
    return rows, ledger


def test_the_balance_row_follows_the_ledger_through_issue_pay_cancel_and_refund():
    customer = CustomerFactory()
    steps = []
    first = issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")])
    steps.append(("issue", Decimal("100.00")))
    payment_record(invoice=first, amount=eur("100.00"))
    steps.append(("pay", Decimal("0.00")))
    issued_invoice(customer=customer, specs=[("Desk", "1", "300.00", "20")], currency="GBP")
    invoice_cancel(invoice=first, actor=None, channel="system")
    steps.append(("cancel a paid invoice", Decimal("-100.00")))
    refund_record(customer=customer, amount=eur("40.00"), actor=None, channel="system")
    steps.append(("refund", Decimal("-60.00")))

    rows, ledger = rows_and_ledger(customer)
    assert rows == ledger == {"EUR": Decimal("-60.00"), "GBP": Decimal("360.00")}
    assert customer_balance(customer=customer) == {
        "EUR": eur("-60.00"),
        "GBP": Money("360.00", "GBP"),
    }
    assert available_credit(customer=customer, currency="EUR") == eur("60.00")
    assert check_balance_rows() == []


def test_available_credit_costs_the_same_queries_for_1_and_30_invoices():
    def queries_for(count: int) -> int:
        customer = CustomerFactory()
        for _ in range(count):
            issued_invoice(customer=customer, specs=[("Desk", "1", "10.00", "0")], paid="all")
        with CaptureQueriesContext(connection) as captured:
            assert available_credit(customer=customer, currency="EUR") == eur("0.00")
        return len(captured)

    assert queries_for(1) == queries_for(30) == 2


def test_reconcile_reports_a_tampered_balance_row():
    customer = CustomerFactory()
    issued_invoice(customer=customer, specs=[("Desk", "1", "100.00", "0")])
    assert check_balance_rows() == []
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CustomerBalance._meta.db_table} SET amount = amount + 1 "
            "WHERE customer_id = %s",
            [customer.pk],
        )
    assert check_balance_rows() == [
        f"Customer id {customer.pk} in EUR: balance row 101.00 but the ledger adds up to 100.00."
    ]
    CustomerBalance.objects.filter(customer=customer).delete()
    assert check_balance_rows() == [
        f"Customer id {customer.pk} in EUR: balance row missing but the ledger adds up to 100.00."
    ]
