"""Credit notes, cancellations and refunds: the services, one module per family.

- ``requests``: what a credit or a cancel may ask for, cleaned before anything is read;
- ``preview``: the note as it would be issued now, and the figures a confirmation showed;
- ``issue``: the transactional core, ``credit_note_issue`` and ``invoice_cancel``;
- ``refunds``: paying back account credit (``refund_record``);
- ``bulk``: cancelling many invoices, in a request or in background runs with a heartbeat.

The arithmetic they share, without the database, is ``credits.calculations``. Callers
outside this app import from here.
"""

from credits.services.bulk import (
    CancellationResult,
    bulk_cancellation_run,
    bulk_cancellation_start,
    bulk_cancellations_requeue,
    invoices_cancel_each,
    queue_bulk_cancellation,
)
from credits.services.issue import CREDIT_LIMIT_TRIGGER, credit_note_issue, invoice_cancel
from credits.services.preview import CreditNotePreview, confirmation_figures, credit_note_preview
from credits.services.refunds import refund_record
from credits.services.requests import (
    DESCRIPTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    Allocation,
    AmountCredit,
    LineCredit,
    Rest,
)

__all__ = [
    "CREDIT_LIMIT_TRIGGER",
    "DESCRIPTION_MAX_LENGTH",
    "REASON_MAX_LENGTH",
    "Allocation",
    "AmountCredit",
    "CancellationResult",
    "CreditNotePreview",
    "LineCredit",
    "Rest",
    "bulk_cancellation_run",
    "bulk_cancellation_start",
    "bulk_cancellations_requeue",
    "confirmation_figures",
    "credit_note_issue",
    "credit_note_preview",
    "invoice_cancel",
    "invoices_cancel_each",
    "queue_bulk_cancellation",
    "refund_record",
]
