from decimal import Decimal

import pytest
from djmoney.money import Money

from coworking.errors import CurrencyMismatch
from coworking.models import LedgerEntry
from coworking.selectors import customer_balance, customer_ledger
from invoicing.errors import InvalidPayment, InvoiceNotPayable, PaymentExceedsAmountDue
from invoicing.models import Invoice, Payment
from invoicing.services import payment_record
from tests.factories import CustomerFactory, draft_invoice, issued_invoice

pytestmark = pytest.mark.django_db


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_partial_then_full_payment_moves_the_state_and_credits_the_ledger():
    invoice = issued_invoice(specs=[("Desk", "1", "100.00", "0")])
    payment_record(invoice=invoice, amount=eur("40.00"))
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PARTIALLY_PAID
    assert invoice.amount_due == eur("60.00")

    payment_record(invoice=invoice, amount=eur("60.00"))
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.PAID
    assert invoice.amount_due == eur("0.00")
    kinds = list(
        LedgerEntry.objects.filter(document_number=invoice.number)
        .order_by("id")
        .values_list("kind", "amount")
    )
    assert kinds == [
        ("invoice", Decimal("100.00")),
        ("payment", Decimal("-40.00")),
        ("payment", Decimal("-60.00")),
    ]


def test_balance_is_invoices_minus_payments_per_currency():
    customer = CustomerFactory()
    issued_invoice(customer=customer, specs=[("Desk", "1", "190.00", "21")], paid="100.00")
    issued_invoice(customer=customer, specs=[("Day pass", "2", "25.00", "21")])
    issued_invoice(customer=customer, specs=[("Desk", "1", "300.00", "20")], currency="GBP")
    draft_invoice(customer=customer)  # drafts never touch the ledger

    balance = customer_balance(customer=customer)
    # 229.90 + 60.50 - 100.00 in EUR; 360.00 in GBP, never mixed
    assert balance == {"EUR": eur("190.40"), "GBP": Money("360.00", "GBP")}
    newest_first = [e.kind for e in customer_ledger(customer=customer, currency="EUR")]
    assert newest_first == ["invoice", "payment", "invoice"]


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (Money("600.00", "EUR"), PaymentExceedsAmountDue),
        (Money("10.00", "GBP"), CurrencyMismatch),
        (Money("0.00", "EUR"), InvalidPayment),
        (Money("-5.00", "EUR"), InvalidPayment),
        (Money("1.001", "EUR"), InvalidPayment),
        (Decimal("10.00"), InvalidPayment),
    ],
)
def test_bad_payments_are_refused_and_change_nothing(amount, error):
    invoice = issued_invoice()
    before = (Payment.objects.count(), LedgerEntry.objects.count())
    with pytest.raises(error):
        payment_record(invoice=invoice, amount=amount)
    invoice.refresh_from_db()
    assert invoice.state == Invoice.State.ISSUED
    assert invoice.amount_paid == eur("0.00")
    assert (Payment.objects.count(), LedgerEntry.objects.count()) == before


@pytest.mark.parametrize("state", ["draft", "paid"])
def test_payment_on_a_draft_or_paid_invoice_is_refused(state):
    invoice = draft_invoice() if state == "draft" else issued_invoice(paid="all")
    with pytest.raises(InvoiceNotPayable):
        payment_record(invoice=invoice, amount=eur("1.00"))
    assert Payment.objects.filter(invoice=invoice).count() == (0 if state == "draft" else 1)
