"""Reads of invoices: which ones a user may see, and the credit a customer can spend."""

from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import DecimalField, F, OuterRef, QuerySet, Value
from django.db.models.functions import Greatest
from djmoney.money import Money

from coworking.models import Customer, CustomerBalance
from coworking.money import MoneySum, SummedMoney, money_sum_subquery, or_zero
from coworking.selectors import customers_with_balances, visible_to
from invoicing.models import Invoice, Payment

# The states that can still owe anything: paid and cancelled invoices are settled.
OPEN_STATES = (Invoice.State.ISSUED, Invoice.State.PARTIALLY_PAID)


def available_credit(*, customer: Customer, currency: str, using: str = DEFAULT_DB_ALIAS) -> Money:
    """Account credit the customer holds in one currency and may still spend.

    The ledger's balance is what the customer owes on open invoices minus the credit they
    hold (a negative balance is credit); so credit = amounts due − balance. It arises when a
    credit note credits more than was still due on its invoice (the invoice was paid) and
    staff keep the excess as account credit; it is spent by ``account_credit`` payments
    (``invoice_issue`` makes them at once, ``payment_record`` on request) and leaves by a
    refund (``credits.services.refund_record``). Credit never crosses currencies. Read it
    under the customer's row lock to spend it: that lock serialises spending. Two queries
    whatever the history: the customer's open invoices and their balance row. ``using``
    names another database for a report (``coworking.db.reporting_db``), never to spend.
    """
    # The (customer, currency, state) index finds the open ones without the settled history.
    due = (
        Invoice.objects.using(using)
        .filter(customer=customer, currency=currency, state__in=OPEN_STATES)
        .aggregate(total=MoneySum(_amount_due()))["total"]
    ) or Decimal("0")
    row = (
        CustomerBalance.objects.using(using)
        .filter(customer=customer, amount_currency=currency)
        .first()
    )
    balance = row.amount.amount if row is not None else Decimal("0")
    return Money(due - balance, currency)


def _amount_due():
    """What an issued invoice still asks to be paid, as the database computes it."""
    return Greatest(
        F("total") - F("amount_paid") - F("amount_credited"),
        Value(Decimal("0")),
        output_field=DecimalField(),
    )


def customers_with_available_credit(*, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``customers_with_balances`` and their available credit, in the same query:
    ``credit_eur``, ``credit_gbp``... per currency and ``billing_credit`` in the billing
    currency (its location's default), each what :func:`available_credit` computes (amounts
    due − balance, zero when the account has nothing in that currency), exact on both
    databases."""
    customers = customers_with_balances(customers=customers)
    issued = Invoice.objects.filter(customer=OuterRef("pk"), state__in=OPEN_STATES)

    def credit(invoices, balance):
        due = money_sum_subquery(invoices, _amount_due(), per="customer")
        return SummedMoney(or_zero(due) - or_zero(balance))

    per_currency = {
        f"credit_{currency.lower()}": credit(
            issued.filter(currency=currency), F(f"balance_{currency.lower()}")
        )
        for currency in settings.CURRENCIES
    }
    billing = credit(
        issued.filter(currency=OuterRef("location__default_currency")), F("billing_balance")
    )
    return customers.annotate(**per_currency, billing_credit=billing)


def visible_invoices(*, user) -> QuerySet[Invoice]:
    """Invoices ``user`` may see: all of them, drafts included, with
    ``invoicing.view_invoice`` (staff); their own customer's issued ones for a portal user;
    none for anybody else."""
    invoices = Invoice.objects.all()
    return visible_to(
        user=user,
        rows=invoices,
        permission="invoicing.view_invoice",
        own=lambda customer: invoices.filter(customer=customer).exclude(state=Invoice.State.DRAFT),
    )


def credit_applied_by_invoice(*, invoice_ids, using: str = DEFAULT_DB_ALIAS) -> dict[int, Money]:
    """The account credit applied to each of ``invoice_ids`` (payments of method
    ``account_credit``), by invoice id; invoices without any are left out. Such payments
    move credit onto an invoice without changing the balance, so they are no ledger entry:
    pages and statements show them beside the invoice's entry."""
    rows = (
        Payment.objects.using(using)
        .filter(invoice_id__in=invoice_ids, method=Payment.Method.ACCOUNT_CREDIT)
        .values_list("invoice_id", "amount_currency")
        .annotate(total=MoneySum("amount"))
        .order_by()
    )
    return {invoice_id: Money(total, currency) for invoice_id, currency, total in rows}


def credit_applied_at_issue(*, invoice: Invoice) -> Decimal:
    """The account credit applied to ``invoice`` (``invoice_issue`` applies what the
    customer holds as ``account_credit`` payments): the prepaid amount its documents state
    (BT-113), so the PDF and both e-invoice syntaxes say the same amount due."""
    applied = credit_applied_by_invoice(invoice_ids=[invoice.pk]).get(invoice.pk)
    return Decimal("0.00") if applied is None else applied.amount


def has_document_allowances(*, invoice: Invoice) -> bool:
    """Whether ``invoice`` has discounts or charges on the whole document; read from the
    admin query's annotation of the same name where it is there (one query per page)."""
    known = getattr(invoice, "has_document_allowances", None)
    return invoice.allowance_charges.exists() if known is None else known
