"""Writes of invoicing, one module per family: drafting (``drafts``), issuing (``issue``),
paying (``payments``), and the row locks they take (``locks``).

Every function is one transaction; the state it depends on is re-read under a row lock,
and a refusal raises a typed error (``invoicing.errors``) before anything is written.
Callers outside this app import from here.
"""

from invoicing.services.drafts import LineInput, invoice_create_draft, invoice_draft_set_lines
from invoicing.services.issue import invoice_issue
from invoicing.services.locks import invoice_lock
from invoicing.services.payments import payment_check, payment_record

__all__ = [
    "LineInput",
    "invoice_create_draft",
    "invoice_draft_set_lines",
    "invoice_issue",
    "invoice_lock",
    "payment_check",
    "payment_record",
]
