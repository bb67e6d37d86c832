"""The reconcile checks of the customer ledger: each customer's balance per currency is what
its entries add up to, its balance rows agree, and every entry has the document or payment
it was posted for. Part of ``credits.reconciliation``'s run (its ``CHECKS``), kept apart
because the ledger is its own family of invariants.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Q

from coworking.iteration import Ids, walked
from coworking.models import Customer, CustomerBalance, LedgerEntry
from coworking.money import MoneySum
from credits.models import (
    CreditNote,
    Refund,
)
from invoicing.models import Invoice, Payment

ZERO = Decimal("0")
# Customers per pass of a check that holds sums per customer: what one pass holds.
CUSTOMER_WINDOW = 10_000


def check_ledger_balances(*, customers: Ids = Ids.ALL) -> list[str]:
    """Per customer and currency: ledger = issued invoices − payments − credit notes +
    refunds (and settlements outside) of credit; one entry per document. The sums are held
    a window of customers at a time."""
    breaches = []
    for window in walked(customers, model=Customer, size=CUSTOMER_WINDOW):
        breaches += _balances_as_documented(customers=window)
    return breaches + _entries_per_kind()


def _balances_as_documented(*, customers: Ids) -> list[str]:
    expected: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for customer_id, currency, total in (
        Invoice.objects.filter(customers.q("customer_id"))
        .exclude(state=Invoice.State.DRAFT)
        .values_list("customer_id", "currency")
        .annotate(MoneySum("total"))
        .order_by()
    ):
        expected[(customer_id, currency)] += total
    for customer_id, currency, total in (
        Payment.objects.filter(customers.q("invoice__customer_id"))
        .exclude(method=Payment.Method.ACCOUNT_CREDIT)
        .values_list("invoice__customer_id", "amount_currency")
        .annotate(MoneySum("amount"))
        .order_by()
    ):
        expected[(customer_id, currency)] -= total
    for customer_id, currency, total in (
        CreditNote.objects.filter(customers.q("customer_id"))
        .values_list("customer_id", "currency")
        .annotate(MoneySum("total"))
        .order_by()
    ):
        expected[(customer_id, currency)] += total  # credit note totals are negative
    for customer_id, currency, total in (
        Refund.objects.filter(customers.q("customer_id"))
        .values_list("customer_id", "amount_currency")
        .annotate(MoneySum("amount"))
        .order_by()
    ):
        expected[(customer_id, currency)] += total  # credit that left the account
    actual: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for customer_id, currency, total in (
        LedgerEntry.objects.filter(customers.q("customer_id"))
        .values_list("customer_id", "amount_currency")
        .annotate(MoneySum("amount"))
        .order_by()
    ):
        actual[(customer_id, currency)] = total
    return [
        f"Customer id {key[0]} in {key[1]}: ledger balance {actual[key]} but documents "
        f"say {expected[key]}."
        for key in sorted(set(expected) | set(actual))
        if expected[key] != actual[key]
    ]


def _entries_per_kind() -> list[str]:
    breaches = []
    entries = LedgerEntry.objects.aggregate(
        invoices=Count("id", filter=Q(kind=LedgerEntry.Kind.INVOICE)),
        payments=Count("id", filter=Q(kind=LedgerEntry.Kind.PAYMENT)),
        credit_notes=Count("id", filter=Q(kind=LedgerEntry.Kind.CREDIT_NOTE)),
        refunds=Count(
            "id", filter=Q(kind__in=[LedgerEntry.Kind.REFUND, LedgerEntry.Kind.SETTLED_OUTSIDE])
        ),
    )
    documents = {
        # A zero-total invoice has nothing on the account.
        "invoices": Invoice.objects.exclude(state=Invoice.State.DRAFT).exclude(total=0).count(),
        "payments": Payment.objects.exclude(method=Payment.Method.ACCOUNT_CREDIT).count(),
        "credit_notes": CreditNote.objects.count(),
        "refunds": Refund.objects.count(),
    }
    for kind, count in documents.items():
        if entries[kind] != count:
            breaches.append(f"{count} {kind} but {entries[kind]} ledger entries for them.")
    return breaches


def check_balance_rows(*, customers: Ids = Ids.ALL) -> list[str]:
    """Each customer's balance row per currency (``CustomerBalance``, what balances and
    available credit read) equals the sum of their ledger entries in it; no sum lacks its
    row. Read a window of customers at a time."""
    breaches = []
    for window in walked(customers, model=Customer, size=CUSTOMER_WINDOW):
        breaches += _balance_rows(customers=window)
    return breaches


def _balance_rows(*, customers: Ids) -> list[str]:
    ledger = {
        (customer_id, currency): total
        for customer_id, currency, total in LedgerEntry.objects.filter(customers.q("customer_id"))
        .values_list("customer_id", "amount_currency")
        .annotate(MoneySum("amount"))
        .order_by()
    }
    rows = {
        (customer_id, currency): amount
        for customer_id, currency, amount in CustomerBalance.objects.filter(
            customers.q("customer_id")
        ).values_list("customer_id", "amount_currency", "amount")
    }
    return [
        f"Customer id {key[0]} in {key[1]}: balance row {rows.get(key, 'missing')} but the "
        f"ledger adds up to {ledger.get(key, ZERO)}."
        for key in sorted(set(ledger) | set(rows))
        if rows.get(key) != ledger.get(key, ZERO)
    ]


def check_ledger_sources(*, entries: Ids = Ids.ALL) -> list[str]:
    """Each entry has the document it was posted for pointing at it, and records it as it
    is (customer, amount, invoice number, document date). With the counts per kind of
    ``check_ledger_balances``, every document is then on its own entry."""
    kind = LedgerEntry.Kind
    own = {
        kind.INVOICE: Q(
            invoice__customer=F("customer"),
            amount=F("invoice__total"),
            document_number=F("invoice__number"),
            document_date=F("invoice__issue_date"),
        ),
        kind.PAYMENT: Q(
            payment__invoice__customer=F("customer"),
            amount=-F("payment__amount"),
            document_number=F("payment__invoice__number"),
            document_date=F("payment__received_on"),
        ),
        kind.CREDIT_NOTE: Q(
            credit_note__customer=F("customer"),
            amount=F("credit_note__total"),
            document_number=F("credit_note__invoice_number"),
            document_date=F("credit_note__issue_date"),
        ),
        kind.REFUND: Q(
            refund__kind=F("kind"), refund__customer=F("customer"), amount=F("refund__amount")
        ),
    }
    own[kind.SETTLED_OUTSIDE] = own[kind.REFUND]
    return [
        f"Ledger entry id {pk} ({entry_kind}) does not record the document pointing at it."
        for entry_kind, condition in own.items()
        for pk in LedgerEntry.objects.filter(entries.q("pk"), kind=entry_kind)
        .exclude(condition)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
