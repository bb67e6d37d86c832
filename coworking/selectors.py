"""Reads of customer accounts."""

from django.db.models import QuerySet, Sum
from djmoney.money import Money

from coworking.models import Customer, LedgerEntry


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
