"""The cancel operation: the only code path that cancels an invoice.

``invoice_cancel`` runs in one transaction: lock the invoice, re-check its state, freeze it
as cancelled, take the next credit-note number of its location (as late as possible, so the
per-location counter row is held briefly), write the credit note and its mirrored lines,
credit the customer's ledger and record the audit event. The PDF is queued only after
commit. It runs a constant number of SQL queries whatever the number of lines.
"""

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.models import LedgerEntry
from coworking.numbering import DocumentType, format_number, next_number
from coworking.services import ledger_post
from credits.errors import InvalidCancellation, InvoiceAlreadyCancelled, InvoiceIsDraft
from credits.models import CancellationEvent, CreditNote, CreditNoteLine
from invoicing.errors import InvoiceNotFound
from invoicing.models import Channel, Invoice

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 1000


def _check_cancellable(invoice: "_LockedInvoice") -> None:
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(
            _("Invoice draft #%(id)s is a draft: delete the draft instead of cancelling it.")
            % {"id": invoice.id}
        )
    if invoice.state == Invoice.State.CANCELLED:
        raise InvoiceAlreadyCancelled(
            _("Invoice %(number)s is already cancelled.") % {"number": invoice.number}
        )


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidCancellation(
            _("The reason is too long (%(length)s characters; at most %(max)s).")
            % {"length": len(reason), "max": REASON_MAX_LENGTH}
        )
    return reason


def invoice_cancel(
    *,
    invoice: Invoice | int,
    actor: AbstractBaseUser | None,
    reason: str = "",
    channel: str,
) -> CreditNote:
    """Cancel an issued, partially paid or paid invoice; return its new credit note.

    The credit note is always for the full total; what had been paid stays as account
    credit on the customer's ledger (this is not a refund). Calling it again for the same
    invoice, at the same time or later, raises ``InvoiceAlreadyCancelled`` and writes
    nothing. Raises ``InvoiceNotFound``, ``InvoiceIsDraft``, ``InvoiceAlreadyCancelled`` or
    ``InvalidCancellation`` (bad reason or channel) with nothing written.
    """
    if channel not in Channel.values:
        raise InvalidCancellation(_("Unknown channel: %(channel)s.") % {"channel": channel})
    reason = _clean_reason(reason)
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else invoice
    with transaction.atomic():
        credit_note = _cancel_locked(
            invoice_id=invoice_id, actor=actor, reason=reason, channel=channel
        )
        transaction.on_commit(
            lambda: queue_credit_note_pdf(credit_note_id=credit_note.pk), robust=True
        )
    return credit_note


@dataclass(frozen=True)
class _LockedInvoice:
    """The locked invoice's row and lines, read as plain values (no model instances: this
    is the hot path of bulk cancels)."""

    id: int
    state: str
    location_id: int
    customer_id: int
    number: str
    issue_date: datetime.date | None
    currency: str
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    credit_note_prefix: str
    lines: tuple[tuple, ...]


_INVOICE_COLUMNS = (
    "id",
    "state",
    "location_id",
    "customer_id",
    "number",
    "issue_date",
    "currency",
    "net_total",
    "tax_total",
    "total",
    "amount_paid",
    "location__credit_note_prefix",
)
_LINE_COLUMNS = (
    "lines__position",
    "lines__description",
    "lines__quantity",
    "lines__unit_price",
    "lines__tax_rate",
    "lines__net",
    "lines__tax",
)


def _lock_with_lines(*, invoice_id) -> _LockedInvoice:
    """Lock the invoice row (only that row) and read it with its lines in one query.

    PostgreSQL re-reads a row it had to wait for, so the state seen here is the one the
    previous holder of the lock committed: a concurrent cancel is seen as cancelled.
    """
    try:
        rows = list(
            Invoice.objects.select_for_update(of=("self",))
            .filter(pk=invoice_id)
            .order_by("lines__position")
            .values_list(*_INVOICE_COLUMNS, *_LINE_COLUMNS)
        )
    except (ValueError, TypeError):
        raise InvoiceNotFound() from None
    if not rows:
        raise InvoiceNotFound()
    head = rows[0][: len(_INVOICE_COLUMNS)]
    lines = tuple(row[len(_INVOICE_COLUMNS) :] for row in rows if row[len(_INVOICE_COLUMNS)])
    return _LockedInvoice(*head, lines=lines)


def _cancel_locked(*, invoice_id, actor, reason: str, channel: str) -> CreditNote:
    started_at = timezone.now()
    invoice = _lock_with_lines(invoice_id=invoice_id)
    _check_cancellable(invoice)
    currency = invoice.currency
    Invoice.objects.filter(pk=invoice.id).update(
        state=Invoice.State.CANCELLED,
        cancelled_at=started_at,
        cancelled_by=actor,
        cancellation_channel=channel,
        cancellation_reason=reason,
    )

    issue_date = timezone.localdate()
    sequence_number = next_number(
        location_id=invoice.location_id, document_type=DocumentType.CREDIT_NOTE
    )
    credit_note = CreditNote.objects.create(
        location_id=invoice.location_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date,
        sequence_number=sequence_number,
        number=format_number(
            prefix=invoice.credit_note_prefix, year=issue_date.year, number=sequence_number
        ),
        issue_date=issue_date,
        currency=currency,
        net_total=Money(-invoice.net_total, currency),
        tax_total=Money(-invoice.tax_total, currency),
        total=Money(-invoice.total, currency),
        reason=reason,
        created_by=actor,
        channel=channel,
    )
    CreditNoteLine.objects.bulk_create(
        [
            CreditNoteLine(
                credit_note=credit_note,
                position=position,
                description=description,
                quantity=-quantity,
                unit_price=Money(unit_price, currency),
                tax_rate=tax_rate,
                net=Money(-net, currency),
                tax=Money(-tax, currency),
            )
            for position, description, quantity, unit_price, tax_rate, net, tax in invoice.lines
        ]
    )
    ledger_post(
        customer_id=invoice.customer_id,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=Money(credit_note.total.amount, currency),
        description=_("Credit note %(credit_note)s cancelling %(invoice)s")
        % {"credit_note": credit_note.number, "invoice": invoice.number},
        invoice_id=invoice.id,
        credit_note=credit_note,
    )
    CancellationEvent.objects.create(
        invoice_id=invoice.id,
        credit_note=credit_note,
        actor=actor,
        channel=channel,
        reason=reason,
        previous_state=invoice.state,
        amount_paid=Money(invoice.amount_paid, currency),
        started_at=started_at,
    )
    return credit_note


def queue_credit_note_pdf(*, credit_note_id: int) -> None:
    """Hand the PDF to the task queue; if the broker is down the note stays ``pending``.

    The periodic sweep (``credits.tasks.render_missing_pdfs``) renders what was not queued.
    """
    from credits.tasks import render_credit_note_pdf

    try:
        render_credit_note_pdf.delay(credit_note_id)
    except Exception:
        logger.warning(
            "Could not queue the PDF of credit note %s; the sweep will render it.",
            credit_note_id,
            exc_info=True,
        )
