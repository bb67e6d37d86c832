"""Reads of invoices: which ones a user may see, and the credit a customer can spend."""

from decimal import Decimal

from django.db.models import QuerySet, Sum
from djmoney.money import Money

from coworking.models import Customer
from coworking.selectors import visible_to
from invoicing.models import Invoice, Payment


def available_credit(*, customer: Customer, currency: str) -> Money:
    """Account credit not yet applied to an invoice, in one currency.

    Credit arises when an invoice that was (partly) settled is cancelled: the credit note is
    for the full total, so what had been paid on it stays with the operator as the
    customer's credit. It is spent by ``account_credit`` payments, which ``invoice_issue``
    makes automatically. So: paid amounts of cancelled invoices − credit applied so far.
    """
    freed = Invoice.objects.filter(
        customer=customer, currency=currency, state=Invoice.State.CANCELLED
    ).aggregate(total=Sum("amount_paid"))["total"] or Decimal("0")
    spent = Payment.objects.filter(
        invoice__customer=customer,
        amount_currency=currency,
        method=Payment.Method.ACCOUNT_CREDIT,
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return Money(freed - spent, currency)


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
