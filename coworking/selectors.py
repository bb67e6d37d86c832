"""Reads of customer accounts and reference data, and who sees which customer.

Visibility, the same rule for every model (each app's ``visible_*`` selector): a user with
the model's ``view`` permission (staff) sees every row; a portal user
(``Customer.portal_user``) sees only their own customer's; anybody else sees nothing. The
API looks objects up inside these querysets, so what is not visible is a 404, never a 403:
it does not reveal that another customer's document exists.
"""

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.db.models import QuerySet, Sum
from djmoney.money import Money

from coworking.models import Customer, ExchangeRate, LedgerEntry


def customer_balance(*, customer: Customer) -> dict[str, Money]:
    """Balance per currency, the sum of the ledger; negative means credit the customer holds.

    Currencies are never mixed: each has its own sum, keyed by ISO code, sorted.
    """
    rows = (
        LedgerEntry.objects.filter(customer=customer)
        .values_list("amount_currency")
        .annotate(total=Sum("amount"))
        .order_by("amount_currency")
    )
    return {currency: Money(total, currency) for currency, total in rows}


def customer_ledger(*, customer: Customer, currency: str | None = None) -> QuerySet[LedgerEntry]:
    """The customer's entries, newest first, with their source documents joined."""
    entries = LedgerEntry.objects.filter(customer=customer).select_related(
        "invoice", "payment", "credit_note"
    )
    if currency:
        entries = entries.filter(amount_currency=currency)
    return entries.order_by("-created_at", "-id")


def portal_customer(*, user) -> Customer | None:
    """The customer whose portal user ``user`` is, or ``None``."""
    if not user.is_authenticated:
        return None
    try:
        return user.customer
    except Customer.DoesNotExist:
        return None


def visible_to(
    *, user, rows: QuerySet, permission: str, own: Callable[[Customer], QuerySet]
) -> QuerySet:
    """The visibility rule above: ``rows`` for a user with ``permission``, ``own(customer)``
    for a portal user, no row for anybody else."""
    if user.has_perm(permission):
        return rows
    customer = portal_customer(user=user)
    if customer is None:
        return rows.none()
    return own(customer)


def visible_customers(*, user) -> QuerySet[Customer]:
    """Customers whose ledger and balance ``user`` may see."""
    customers = Customer.objects.all()
    return visible_to(
        user=user,
        rows=customers,
        permission="coworking.view_customer",
        own=lambda customer: customers.filter(pk=customer.pk),
    )


def exchange_rate_on(*, currency: str, vat_currency: str, date: datetime.date) -> Decimal | None:
    """The latest recorded rate from ``currency`` to ``vat_currency`` on or before ``date``
    (``None`` when there is none): the rate an invoice issued that day states its VAT at."""
    return (
        ExchangeRate.objects.filter(currency=currency, vat_currency=vat_currency, date__lte=date)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
