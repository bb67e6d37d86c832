"""Writes to the customer ledger. Called only from other services, inside their transaction."""

import datetime

from django.db import connection
from djmoney.money import Money

from coworking.models import LedgerEntry


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
    ``ledger_entry``). The sign rules are database constraints."""
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post() must run inside the transaction of its document.")
    return LedgerEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        description=description[:200],
        document_number=document_number,
        document_date=document_date,
    )
