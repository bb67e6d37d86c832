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

from django.conf import settings
from django.db.models import BooleanField, F, Func, OuterRef, QuerySet
from djmoney.money import Money

from coworking.models import Customer, CustomerBalance, ExchangeRate, LedgerEntry, Location
from coworking.money import SummedMoney, money_sum_subquery, or_zero
from coworking.registry import ledger_related, location_has_registered_documents


def customer_balance(*, customer: Customer) -> dict[str, Money]:
    """Balance per currency, the sum of the ledger (its ``CustomerBalance`` rows, one per
    currency, kept by ``ledger_post``); negative means credit the customer holds.

    Currencies are never mixed: each has its own sum, keyed by ISO code, sorted.
    """
    rows = CustomerBalance.objects.filter(customer=customer).order_by("amount_currency")
    return {row.amount_currency: row.amount for row in rows}


def customers_with_balances(*, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``customers`` with their balances, computed by the database in the same query (a list
    of any length costs no query per row): ``balance_eur``, ``balance_gbp``... per currency
    of ``settings.CURRENCIES`` (``None`` where the account has no entry in it) and
    ``billing_balance``, the balance in the customer's billing currency (its location's
    default currency; zero when none), by which a list can be sorted. Exact on both
    databases (``MoneySum``), the figures of :func:`customer_balance`, read from the
    ``CustomerBalance`` rows."""
    balances = CustomerBalance.objects.filter(customer=OuterRef("pk"))
    per_currency = {
        f"balance_{currency.lower()}": money_sum_subquery(
            balances.filter(amount_currency=currency), "amount", per="customer"
        )
        for currency in settings.CURRENCIES
    }
    billing = money_sum_subquery(
        balances.filter(amount_currency=OuterRef("location__default_currency")),
        "amount",
        per="customer",
    )
    return customers.annotate(**per_currency, billing_balance=or_zero(billing))


class RowAfter(Func):
    """``(a, b, c) > (x, y, z)``, a row comparison: an index on ``(a, b, c)`` reads it as one
    range, where the same test spelled as ORs reads every row of the index's prefix. (Django's
    ``TupleGreaterThan`` writes the same SQL but takes no ``OuterRef``.)"""

    conditional = True
    output_field = BooleanField()

    def __init__(self, columns: list, values: list):
        self.width = len(columns)
        super().__init__(*columns, *values)

    def as_sql(self, compiler, connection, **extra):
        compiled = [compiler.compile(part) for part in self.get_source_expressions()]
        left = ", ".join(sql for sql, _ in compiled[: self.width])
        right = ", ".join(sql for sql, _ in compiled[self.width :])
        return f"({left}) > ({right})", [value for _, params in compiled for value in params]


def customer_ledger(*, customer: Customer, currency: str | None = None) -> QuerySet[LedgerEntry]:
    """The customer's entries as an account statement reads them: by the date of their
    document (invoice date, payment received on, credit note date, refund recorded on),
    newest first; the source documents joined (``coworking.registry``). The balance after
    each: :func:`with_running_balance`."""
    entries = LedgerEntry.objects.filter(customer=customer).select_related(*ledger_related())
    if currency:
        entries = entries.filter(amount_currency=currency)
    return entries.order_by("-document_date", "-created_at", "-id")


def with_running_balance(entries: QuerySet[LedgerEntry]) -> QuerySet[LedgerEntry]:
    """``entries`` (of :func:`customer_ledger`) each with the ``running_balance`` of its
    currency after it: the customer's balance row less the entries after it in the ledger's
    order. A row reads the entries newer than itself, not the history before it, so the
    newest page costs the same whatever the customer's history (a page N deep reads the N
    pages above it); balance and entries are read in one statement, of one snapshot."""
    account = {"customer": OuterRef("customer"), "amount_currency": OuterRef("amount_currency")}
    order = ["document_date", "created_at", "id"]
    newer = LedgerEntry.objects.filter(**account).filter(
        RowAfter([F(column) for column in order], [OuterRef(column) for column in order])
    )
    balance = money_sum_subquery(
        CustomerBalance.objects.filter(**account), "amount", per="customer"
    )
    newer_sum = money_sum_subquery(newer, "amount", per="customer")
    return entries.annotate(running_balance=SummedMoney(or_zero(balance) - or_zero(newer_sum)))


def location_has_documents(*, location: Location) -> bool:
    """Whether a numbered invoice or credit note carries the location's prefixes (the apps
    that number them tell, ``coworking.registry``)."""
    return location_has_registered_documents(location)


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
