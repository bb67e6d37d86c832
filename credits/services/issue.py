"""Issuing credit notes and cancelling invoices: the one transactional core.

``credit_note_issue`` credits part of an invoice (lines by quantity, a free amount at one of
its tax rates); ``invoice_cancel`` credits everything still creditable and marks the invoice
cancelled. Both are ``_issue``, which runs in one transaction:

1. lock the invoice row and check, on what it reads under the lock, who may do this and
   whether the invoice can be credited (``credits.policies``);
2. read what is left to credit per line and tax rate (``credits.selectors.invoice_creditable``)
   and work out the credited parts with the one rounding rule (``credits.calculations``,
   assembled by ``credits.services.drafting``);
3. write everything: the invoice's credited amount and state, the credit note (still
   without its number) and its lines, the ledger entries (the credit; a refund or a
   settlement outside when staff chose one), and the cancellation record when the invoice
   is now credited in full; then have the database check the credit limits (constraint
   triggers deferred to commit, run at this point instead) and announce
   ``credit_note.written``, on which the books work out the note's journal entry;
4. last, take the next number of the location's credit-note series and set it on the note.
   The counter row stays locked until commit, so numbers are gapless;
5. announce ``invoice.cancelled`` and ``credit_note.issued``: the webhook outbox rows, and
   the books number and write the entry prepared in 3. From the number to the commit that
   per-location serial section runs those statements alone (seven for a cancel, the
   number's two included); the PDF is queued after commit.

It runs a constant number of SQL queries whatever the number of lines. Concurrent credits of
one invoice serialise on its row lock, so they never over-credit.
"""

import logging
import time
from collections.abc import Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coworking.events import EventType, InternalEventType, announce
from coworking.models import LedgerEntry
from coworking.numbering import DocumentType, format_number, next_number
from coworking.related import remember_related
from coworking.services import ledger_post
from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.einvoice import check_credit_note_einvoice
from credits.errors import ConfirmationOutdated
from credits.models import (
    CancellationEvent,
    CreditNote,
    CreditNoteAllowanceCharge,
    CreditNoteLine,
    ReasonCode,
    Refund,
)
from credits.selectors import figures_changes, invoice_figures
from credits.services.drafting import build_credit_note, checked_parts
from credits.services.preview import confirmation_figures
from credits.services.refunds import refund_write
from credits.services.requests import (
    Allocation,
    AmountCredit,
    LineCredit,
    cancel_request,
    partial_request,
)
from invoicing.models import Invoice
from invoicing.services import invoice_lock

logger = logging.getLogger(__package__)


_CANCELLATION_FIELDS = [
    "state",
    "cancelled_at",
    "cancelled_by",
    "cancellation_channel",
    "cancellation_reason",
]


def credit_note_issue(
    *,
    invoice: Invoice | int,
    lines: Sequence[LineCredit] = (),
    amount: AmountCredit | None = None,
    reason: str = "",
    reason_code: str = ReasonCode.OTHER,
    actor: AbstractBaseUser | None,
    channel: str,
    allocation: Allocation | None = None,
    as_shown: Mapping[str, str] | None = None,
) -> CreditNote:
    """Credit part of an issued, partially paid or paid invoice; return the credit note.

    ``lines`` credit quantities of invoice lines: a part's net is what the line's credited
    quantity is worth after it minus what was credited before, each rounded by the one rule
    (``coworking.money.round_amount``), and its tax likewise, so parts never add up to more
    than the line and the part that completes a line takes exactly what is left. ``amount``
    credits a net amount at a tax rate of the invoice, its tax at that rate (never more than
    the tax left at the rate; all of it when the amount is all the net left). The note
    first reduces what is still due; the rest goes to account credit unless ``allocation``
    sends some of it to a refund or a settlement outside. If the note leaves nothing to
    credit, the invoice is cancelled (the note ``cancels_invoice``).

    Only users with ``invoicing.issue_credit_note`` (or the system: no actor) may; members
    never. Raises with nothing written: ``InvoiceNotFound``, ``CreditNotAllowed``,
    ``InvoiceIsDraft``, ``NothingLeftToCredit`` (cancelled invoice, or a line credited in
    full), ``InvalidCreditNote`` (nothing asked, quantity not positive, a line twice, bad
    reason code or channel...), ``CreditLineNotOnInvoice``, ``TaxRateNotOnInvoice``,
    ``CreditExceedsLine``, ``CreditExceedsRate``, ``CurrencyMismatch``,
    ``InvalidAllocation``, or ``ConfirmationOutdated`` when ``as_shown`` (the
    ``CreditNotePreview.figures`` a confirmation page showed) is given and differs from the
    figures of the note as it would be issued now, computed under the lock: Continue issues
    exactly what the page showed, and a double submit issues one note.
    """
    request = partial_request(
        lines=lines, amount=amount, reason=reason, reason_code=reason_code, channel=channel
    )
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else invoice
    return _issue(
        invoice_id=invoice_id,
        **request,
        everything_left=False,
        actor=actor,
        channel=channel,
        allocation=allocation or Allocation(),
        as_shown=as_shown,
    )


def invoice_cancel(
    *,
    invoice: Invoice | int,
    actor: AbstractBaseUser | None,
    reason: str = "",
    channel: str,
    reason_code: str = ReasonCode.OTHER,
    allocation: Allocation | None = None,
    as_shown: Mapping[str, str] | None = None,
) -> CreditNote:
    """Cancel an issued, partially paid or paid invoice; return its new credit note.

    The credit note credits everything still creditable: the whole invoice, or what its
    earlier credit notes left (then all its notes together equal its total, per tax rate).
    What had been paid stays as account credit on the customer's ledger unless
    ``allocation`` refunds it or records it as settled outside. Who may cancel is checked
    here, on the locked invoice (``credits.policies.may_cancel``: ``actor`` through
    ``channel``; no actor is the system itself). Calling it again for the same invoice, at
    the same time or later, raises ``InvoiceAlreadyCancelled`` and writes nothing. Raises
    ``InvoiceNotFound``, ``CancelNotAllowed``, ``InvoicePaid`` (members), ``InvoiceIsDraft``,
    ``InvoiceAlreadyCancelled``, ``InvalidCancellation`` (bad reason, code or channel) or
    ``InvalidAllocation`` with nothing written; and ``ConfirmationOutdated`` when
    ``as_shown`` (the ``invoice_figures`` a confirmation page showed) is given and the
    invoice, read under the lock, no longer has them. Announces ``invoice.cancelled`` and
    ``credit_note.issued`` in its transaction (for the webhook outbox) and queues the
    note's PDF itself after commit.
    """
    request = cancel_request(reason=reason, reason_code=reason_code, channel=channel)
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else invoice
    return _issue(
        invoice_id=invoice_id,
        **request,
        everything_left=True,
        actor=actor,
        channel=channel,
        allocation=allocation or Allocation(),
        as_shown=as_shown,
    )


def _issue(
    *,
    invoice_id,
    lines: list[LineCredit],
    amount: AmountCredit | None,
    everything_left: bool,
    reason: str,
    reason_code: str,
    actor,
    channel: str,
    allocation: Allocation,
    as_shown: Mapping[str, str] | None = None,
) -> CreditNote:
    started = time.perf_counter()
    with transaction.atomic():
        started_at = timezone.now()
        # The customer's location too: the e-invoice check reads its language.
        invoice = invoice_lock(
            invoice_id=invoice_id, related=("location", "customer", "customer__location")
        )
        parts = checked_parts(
            invoice,
            actor=actor,
            channel=channel,
            everything_left=everything_left,
            lines=lines,
            amount=amount,
        )
        credit_note, note_lines = build_credit_note(
            invoice=invoice,
            parts=parts,
            allocation=allocation,
            reason=reason,
            reason_code=reason_code,
            actor=actor,
            channel=channel,
        )
        if as_shown is not None:
            # A cancel page shows the invoice's figures; a credit note page, the note's too.
            now = (
                invoice_figures(invoice=invoice)
                if everything_left
                else confirmation_figures(
                    invoice=invoice, credit_note=credit_note, lines=note_lines
                )
            )
            _check_as_shown(invoice=invoice, shown=dict(as_shown), now=now)
        allowance_charges = CreditNoteAllowanceCharge.mirroring(credit_note)
        check_credit_note_einvoice(
            credit_note=credit_note, lines=note_lines, allowance_charges=allowance_charges
        )
        credit_note = _write(
            invoice=invoice,
            credit_note=credit_note,
            lines=note_lines,
            allowance_charges=allowance_charges,
            allocation=allocation,
            reason=reason,
            actor=actor,
            channel=channel,
            started_at=started_at,
        )
        if credit_note.cancels_invoice:
            announce(
                type=EventType.INVOICE_CANCELLED, instance=invoice, actor=actor, channel=channel
            )
        announce(
            type=EventType.CREDIT_NOTE_ISSUED, instance=credit_note, actor=actor, channel=channel
        )
        credit_note_id = credit_note.pk
        transaction.on_commit(
            lambda: CREDIT_NOTE_DOCUMENT.queue_pdf(document_id=credit_note_id), robust=True
        )
    logger.info(
        "Invoice %s cancelled by credit note %s."
        if credit_note.cancels_invoice
        else "Invoice %s credited in part by credit note %s.",
        invoice.number,
        credit_note.number,
        extra={
            "event": (
                EventType.INVOICE_CANCELLED
                if credit_note.cancels_invoice
                else EventType.CREDIT_NOTE_ISSUED
            ).value,
            "invoice": invoice.number,
            "credit_note": credit_note.number,
            "actor": actor.get_username() if actor else None,
            "channel": channel,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return credit_note


def _check_as_shown(*, invoice: Invoice, shown: dict, now: dict) -> None:
    """Raise ``ConfirmationOutdated``, saying what changed, when the figures a confirmation
    page showed are not those of now."""
    if shown == now:
        return
    changes = figures_changes(shown=shown, now=now)
    raise ConfirmationOutdated(
        _(
            "Invoice %(number)s changed since this confirmation was shown (%(changes)s): "
            "nothing was issued. Check the figures again and continue."
        )
        % {"number": invoice.number, "changes": "; ".join(changes)},
        changes=changes,
    )


def _write(
    *,
    invoice: Invoice,
    credit_note: CreditNote,
    lines: list[CreditNoteLine],
    allowance_charges: list[CreditNoteAllowanceCharge],
    allocation: Allocation,
    reason: str,
    actor,
    channel: str,
    started_at,
) -> CreditNote:
    """Write the credit note ``build_credit_note`` made and everything that goes with it; the number
    comes last."""
    credited, cancels = -credit_note.total, credit_note.cancels_invoice
    refund, settled = credit_note.refund_amount, credit_note.settled_outside_amount
    previous_state, amount_paid = invoice.state, invoice.amount_paid
    invoice.amount_credited = invoice.amount_credited + credited
    fields = ["amount_credited", "amount_credited_currency", "state"]
    if cancels:
        invoice.state = Invoice.State.CANCELLED
        invoice.cancelled_at = started_at
        invoice.cancelled_by = actor
        invoice.cancellation_channel = channel
        invoice.cancellation_reason = reason
        fields = list(dict.fromkeys(fields + _CANCELLATION_FIELDS))
    else:
        invoice.state = invoice.settled_state()
    invoice.save(update_fields=fields)
    # The entry names the invoice (the note's number is not taken yet; the note points at it).
    credit_note.ledger_entry = ledger_post(
        customer_id=invoice.customer_id,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=-credited,
        description=(
            _("Credit note cancelling %(invoice)s") if cancels else _("Credit note on %(invoice)s")
        )
        % {"invoice": invoice.number},
        document_number=invoice.number,
        document_date=credit_note.issue_date,
    )
    credit_note.save(force_insert=True)
    CreditNoteLine.objects.bulk_create(lines)
    if allowance_charges:
        CreditNoteAllowanceCharge.objects.bulk_create(allowance_charges)
    # The books read them to work out the note's journal entry (``credit_note.written``).
    remember_related(credit_note, lines=lines, allowance_charges=allowance_charges)
    for kind, part in ((Refund.Kind.REFUND, refund), (Refund.Kind.SETTLED_OUTSIDE, settled)):
        if part.amount > 0:
            refund_write(
                customer_id=invoice.customer_id,
                kind=kind,
                amount=part,
                credit_note=credit_note,
                invoice=invoice,
                reference=allocation.reference,
                actor=actor,
                channel=channel,
            )
    if cancels:
        CancellationEvent.objects.create(
            invoice=invoice,
            credit_note=credit_note,
            actor=actor,
            channel=channel,
            reason=reason,
            previous_state=previous_state,
            amount_paid=amount_paid,
            started_at=started_at,
        )
    _check_credit_limits()
    announce(
        type=InternalEventType.CREDIT_NOTE_WRITTEN,
        instance=credit_note,
        actor=actor,
        channel=channel,
    )
    _number(credit_note=credit_note, prefix=invoice.location.credit_note_prefix)
    return credit_note


# The constraint trigger that holds the over-credit rule (credits' initial migration), deferred
# to commit.
CREDIT_LIMIT_TRIGGER = "credits_credit_within_invoice"


def _check_credit_limits() -> None:
    """Have the database check the credit limits now, before the number is taken, rather
    than at commit, when the location's counter would be held while they run; then defer
    them again for whatever else the transaction writes."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SET CONSTRAINTS {CREDIT_LIMIT_TRIGGER} IMMEDIATE; "
            f"SET CONSTRAINTS {CREDIT_LIMIT_TRIGGER} DEFERRED"
        )


def _number(*, credit_note: CreditNote, prefix: str) -> None:
    """Take the next number of the location's series and set it on the note: the last
    statements before commit, so the counter row is locked as briefly as possible."""
    sequence_number = next_number(
        location_id=credit_note.location_id, document_type=DocumentType.CREDIT_NOTE
    )
    number = format_number(prefix=prefix, year=credit_note.issue_date.year, number=sequence_number)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CreditNote._meta.db_table} SET sequence_number = %s, number = %s "
            "WHERE id = %s",
            [sequence_number, number, credit_note.pk],
        )
    credit_note.sequence_number, credit_note.number = sequence_number, number
