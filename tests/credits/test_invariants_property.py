"""Random sequences of issue / pay / credit part / cancel / refund / apply credit keep every
invariant after every step."""

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
from credits.models import CreditNote, Refund
from credits.reconciliation import reconcile
from credits.services import (
    Allocation,
    AmountCredit,
    LineCredit,
    credit_note_issue,
    invoice_cancel,
    refund_record,
)
from invoicing.models import Invoice, Payment
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
            assert note.total == -(invoice.total - invoice.amount_credited)
            assert note.cancels_invoice

    @precondition(lambda self: self.invoices)
    @rule(
        pick=st.integers(0, 10**6),
        fraction=st.sampled_from(["0.1", "0.5", "1"]),
        refund=st.sampled_from(["0", "0.5", "1"]),
    )
    def credit_lines(self, pick, fraction, refund):
        """Credit a share of what is left of one line; refund a share of any excess."""
        invoice = Invoice.objects.get(pk=self.invoices[pick % len(self.invoices)])
        lines = list(invoice.lines.order_by("position"))
        target = lines[pick % len(lines)]
        left = target.quantity + sum((c.quantity for c in target.credit_lines.all()), Decimal("0"))
        quantity = (left * Decimal(fraction)).quantize(Decimal("0.001"))
        excess = self._excess(invoice)
        try:
            note = credit_note_issue(
                invoice=invoice,
                lines=[LineCredit(target.pk, quantity)],
                actor=None,
                channel="admin",
                allocation=Allocation(
                    refund=Money((excess * Decimal(refund)).quantize(Decimal("0.01")), "EUR")
                    if invoice.currency == "EUR" and excess > 0
                    else None
                ),
            )
        except ApplicationError as error:
            assert error.code in {
                "nothing_left_to_credit",
                "credit_note_invalid",
                "credit_exceeds_rate",
                "credit_allocation_invalid",
            }, error.message
        else:
            assert note.total.amount < 0 or quantity > 0

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 10**6), share=st.sampled_from(["0.01", "0.3", "1"]))
    def credit_amount(self, pick, share):
        """Credit a free amount at one of the invoice's rates."""
        invoice = Invoice.objects.get(pk=self.invoices[pick % len(self.invoices)])
        rate = invoice.lines.order_by("position").first().tax_rate
        value = (invoice.amount_creditable.amount * Decimal(share)).quantize(Decimal("0.01"))
        try:
            credit_note_issue(
                invoice=invoice,
                amount=AmountCredit(Money(value, invoice.currency), rate),
                actor=None,
                channel="api",
            )
        except ApplicationError as error:
            assert error.code in {
                "nothing_left_to_credit",
                "credit_note_invalid",
                "credit_exceeds_rate",
            }, error.message

    @rule(customer=st.integers(0, 1), share=st.sampled_from(["0.5", "1", "2"]))
    def refund(self, customer, share):
        """Refund a share of the credit held (more than held is refused)."""
        held = available_credit(customer=self.customers[customer], currency="EUR").amount
        amount = (held * Decimal(share)).quantize(Decimal("0.01"))
        try:
            refund_record(
                customer=self.customers[customer],
                amount=Money(amount, "EUR"),
                actor=None,
                channel="admin",
            )
        except ApplicationError as error:
            assert amount <= 0 or amount > held, error.message

    @precondition(lambda self: self.invoices)
    @rule(pick=st.integers(0, 10**6))
    def apply_credit(self, pick):
        """Apply held credit to an open invoice, never more than held or due."""
        invoice = Invoice.objects.get(pk=self.invoices[pick % len(self.invoices)])
        held = available_credit(customer=invoice.customer, currency=invoice.currency)
        amount = min(held, invoice.amount_due)
        try:
            payment_record(invoice=invoice, amount=amount, method=Payment.Method.ACCOUNT_CREDIT)
        except ApplicationError:
            assert amount.amount <= 0 or invoice.state not in ("issued", "partially_paid")

    @staticmethod
    def _excess(invoice) -> Decimal:
        """Roughly what a credit of the whole remainder would credit beyond what is due."""
        return max(invoice.amount_creditable.amount - invoice.amount_due.amount, Decimal("0"))

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
                # The credit held, from the documents alone: what credit notes sent to
                # account credit, minus credit applied to invoices and refunded later.
                kept = sum(
                    (
                        n.account_credit_amount.amount
                        for n in CreditNote.objects.filter(customer=customer, currency=currency)
                    ),
                    Decimal("0"),
                )
                applied = sum(
                    (
                        p.amount.amount
                        for p in Payment.objects.filter(
                            invoice__customer=customer,
                            amount_currency=currency,
                            method=Payment.Method.ACCOUNT_CREDIT,
                        )
                    ),
                    Decimal("0"),
                )
                refunded = sum(
                    (
                        r.amount.amount
                        for r in Refund.objects.filter(
                            customer=customer, amount_currency=currency, credit_note=None
                        )
                    ),
                    Decimal("0"),
                )
                credit = kept - applied - refunded
                assert credit >= 0
                assert balance.amount == open_due - credit
                assert available_credit(customer=customer, currency=currency).amount == credit


@pytest.mark.django_db
def test_random_operations_keep_the_books_balanced():
    Ledger.TestCase.settings = settings(
        max_examples=10,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    Ledger.TestCase().runTest()
