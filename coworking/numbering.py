"""Gapless document numbers, one series per location and document type.

The counter is a django-sequences row taken with ``get_next_value`` inside the transaction
that writes the document: the row stays locked until commit, so numbers are handed out in
order with no gap and no duplicate, and a rolled-back attempt gives its number back.
The guarantee holds only when it is called inside that transaction, which is why
:func:`next_number` refuses to run outside one. A series never resets: the year in the
printed number is the document's issue year, the counter runs on.
"""

from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from sequences import get_last_value, get_next_value


class DocumentType(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


def sequence_name(*, location_id: int, document_type: str) -> str:
    return f"{document_type}:{location_id}"


def next_number(*, location_id: int, document_type: str) -> int:
    """Take the next number of a series; the caller's transaction holds it until commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("next_number() must run inside the transaction that uses it.")
    return get_next_value(sequence_name(location_id=location_id, document_type=document_type))


def last_number(*, location_id: int, document_type: str) -> int:
    """The highest number handed out so far (0 when the series is unused)."""
    return get_last_value(sequence_name(location_id=location_id, document_type=document_type)) or 0


def format_number(*, prefix: str, year: int, number: int) -> str:
    """The printed number, e.g. ``INV-2026-000042``: the only place the format is defined."""
    return f"{prefix}-{year}-{number:06d}"
