"""Writes to the customer ledger. Called only from other services, inside their transaction."""

from django.db import connection
from djmoney.money import Money

from coworking.models import LedgerEntry


def ledger_post(
    *,
    customer_id: int,
    kind: str,
    amount: Money,
    description: str,
    invoice_id: int | None,
    payment=None,
    credit_note=None,
    refund=None,
) -> LedgerEntry:
    """Append one entry; the sign and source rules are database constraints."""
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post() must run inside the transaction of its document.")
    return LedgerEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        description=description[:200],
        invoice_id=invoice_id,
        payment=payment,
        credit_note=credit_note,
        refund=refund,
    )
