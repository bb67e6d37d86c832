"""The cancel operation: the only code path that cancels an invoice.

``invoice_cancel`` runs in one transaction: lock the invoice, re-check its state, freeze it
as cancelled, take the next credit-note number of its location (as late as possible, so the
per-location counter row is held briefly), write the credit note and its mirrored lines,
credit the customer's ledger and record the audit event. The PDF is queued only after
commit. It runs a constant number of SQL queries whatever the number of lines.
"""

import logging

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
from invoicing.models import Channel, Invoice
from invoicing.services import invoice_lock

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 1000


def _check_cancellable(invoice: Invoice) -> None:
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(
            _("Invoice draft #%(id)s is a draft: delete the draft instead of cancelling it.")
            % {"id": invoice.pk}
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


def _cancel_locked(*, invoice_id, actor, reason: str, channel: str) -> CreditNote:
    started_at = timezone.now()
    invoice = invoice_lock(invoice_id=invoice_id, related=("location", "customer"))
    _check_cancellable(invoice)
    location = invoice.location
    invoice_lines = list(invoice.lines.all())
    previous_state, currency = invoice.state, invoice.currency

    invoice.state = Invoice.State.CANCELLED
    invoice.cancelled_at = started_at
    invoice.cancelled_by = actor
    invoice.cancellation_channel = channel
    invoice.cancellation_reason = reason
    invoice.save(
        update_fields=[
            "state",
            "cancelled_at",
            "cancelled_by",
            "cancellation_channel",
            "cancellation_reason",
        ]
    )

    issue_date = timezone.localdate()
    sequence_number = next_number(location_id=location.pk, document_type=DocumentType.CREDIT_NOTE)
    credit_note = CreditNote.objects.create(
        location_id=location.pk,
        customer_id=invoice.customer_id,
        invoice=invoice,
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date,
        sequence_number=sequence_number,
        number=format_number(
            prefix=location.credit_note_prefix, year=issue_date.year, number=sequence_number
        ),
        issue_date=issue_date,
        currency=currency,
        net_total=-invoice.net_total,
        tax_total=-invoice.tax_total,
        total=-invoice.total,
        reason=reason,
        created_by=actor,
        channel=channel,
    )
    CreditNoteLine.objects.bulk_create(
        [
            CreditNoteLine(
                credit_note=credit_note,
                position=line.position,
                description=line.description,
                quantity=-line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                net=-line.net,
                tax=-line.tax,
            )
            for line in invoice_lines
        ]
    )
    ledger_post(
        customer=invoice.customer,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=Money(credit_note.total.amount, currency),
        description=_("Credit note %(credit_note)s cancelling %(invoice)s")
        % {"credit_note": credit_note.number, "invoice": invoice.number},
        invoice=invoice,
        credit_note=credit_note,
    )
    CancellationEvent.objects.create(
        invoice=invoice,
        credit_note=credit_note,
        actor=actor,
        channel=channel,
        reason=reason,
        previous_state=previous_state,
        amount_paid=invoice.amount_paid,
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
