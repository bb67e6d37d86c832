"""Writes to the customer ledger. Called only from other services, inside their transaction."""

import datetime

from django.db import connection
from djmoney.money import Money

from coworking.models import CustomerBalance, LedgerEntry
from coworking.money import DECIMAL_PLACES


def ledger_post(
    *,
    customer_id: int,
    kind: str,
    amount: Money,
    description: str,
    document_number: str,
    document_date: datetime.date,
) -> LedgerEntry:
    """Append one entry and return it; the caller's document points at it (its
    ``ledger_entry``). The sign rules are database constraints. The customer's balance in
    the entry's currency moves by the same amount in the same transaction
    (:func:`_balance_add`)."""
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post() must run inside the transaction of its document.")
    entry = LedgerEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        description=description[:200],
        document_number=document_number,
        document_date=document_date,
    )
    _balance_add(customer_id=customer_id, amount=amount)
    return entry


def _balance_add(*, customer_id: int, amount: Money) -> None:
    """Add ``amount`` to the customer's balance row in its currency, creating the row at the
    first entry. One upsert: the increment happens in the database under the row's lock
    (held to the commit), so concurrent postings for one customer add up, whether or not
    the caller holds the customer's lock (``coworking.locking``, step 3b). Rounded to cents
    because SQLite adds its decimals as floats."""
    table = CustomerBalance._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_id, amount_currency, amount) VALUES (%s, %s, %s) "
            "ON CONFLICT (customer_id, amount_currency) "
            f"DO UPDATE SET amount = ROUND({table}.amount + excluded.amount, {DECIMAL_PLACES})",
            [customer_id, str(amount.currency), amount.amount],
        )
