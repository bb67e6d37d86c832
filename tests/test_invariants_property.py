"""Random sequences of issue / pay / cancel keep every invariant after every step."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from coworking.errors import ApplicationError
from coworking.models import ExchangeRate
from coworking.selectors import customer_balance
from credits.reconciliation import reconcile
from credits.services import invoice_cancel
from invoicing.models import Invoice
from invoicing.selectors import available_credit
from invoicing.services import invoice_issue, payment_record
from tests.factories import CustomerFactory, LocationFactory, draft_invoice

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("2000"), places=2)
quantities = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("10"), places=1)
rates = st.sampled_from(["0", "9", "20", "21"])
line_specs = st.lists(
    st.tuples(st.just("Item"), quantities.map(str), prices.map(str), rates), min_size=1, max_size=4
)


class Ledger(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        location = LocationFactory()
        # GBP invoices state their VAT in the location's EUR too, at the recorded rate.
        ExchangeRate.objects.get_or_create(
            currency="GBP",
            vat_currency="EUR",
            date=datetime.date(2000, 1, 1),
            defaults={"rate": Decimal("1.17")},
        )
        self.customers = CustomerFactory.create_batch(2, location=location)
        self.invoices: list[int] = []

    @rule(customer=st.integers(0, 1), currency=st.sampled_from(["EUR", "GBP"]), specs=line_specs)
    def issue(self, customer, currency, specs):
        draft = draft_invoice(customer=self.customers[customer], specs=specs, currency=currency)
        credit_before = available_credit(customer=self.customers[customer], currency=currency)
        invoice = invoice_issue(invoice=draft)
        self.invoices.append(invoice.pk)
        applied = min(credit_before, invoice.total)
        assert invoice.amount_paid == applied

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 10**6), fraction=st.sampled_from(["0.25", "0.5", "1"]))
    def pay(self, pick, fraction):
        invoice = Invoice.objects.get(pk=self.invoices[pick % len(self.invoices)])
        due = invoice.amount_due.amount
        amount = (due * Decimal(fraction)).quantize(Decimal("0.01"))
        try:
            payment_record(invoice=invoice, amount=Money(amount, invoice.currency))
        except ApplicationError:
            assert invoice.state not in ("issued", "partially_paid") or amount <= 0

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 10**6))
    def cancel(self, pick):
        invoice = Invoice.objects.get(pk=self.invoices[pick % len(self.invoices)])
        try:
            note = invoice_cancel(invoice=invoice, actor=None, channel="api")
        except ApplicationError as error:
            assert invoice.state == "cancelled" and error.code == "invoice_already_cancelled"
        else:
            assert note.total == -invoice.total

    @invariant()
    def books_balance(self):
        if not hasattr(self, "customers"):
            return
        assert {k: v for k, v in reconcile().items() if v} == {}
        for customer in self.customers:
            for currency, balance in customer_balance(customer=customer).items():
                open_due = sum(
                    (
                        i.amount_due.amount
                        for i in Invoice.objects.filter(customer=customer, currency=currency)
                    ),
                    Decimal("0"),
                )
                credit = available_credit(customer=customer, currency=currency).amount
                assert balance.amount == open_due - credit


@pytest.mark.django_db
def test_random_operations_keep_the_books_balanced():
    Ledger.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    Ledger.TestCase().runTest()
