"""Issuing credit notes and cancelling invoices: the one transactional core.

``credit_note_issue`` credits part of an invoice (lines by quantity, a free amount at one of
its tax rates); ``invoice_cancel`` credits everything still creditable and marks the invoice
cancelled. Both are ``_issue``, which runs in one transaction:

1. lock the invoice row and check, on what it reads under the lock, who may do this and
   whether the invoice can be credited (``credits.policies``);
2. read what is left to credit per line and tax rate (``credits.selectors.invoice_creditable``)
   and work out the credited parts with the one rounding rule;
3. write everything: the invoice's credited amount and state, the credit note (still
   without its number) and its lines, the ledger entries (the credit; a refund or a
   settlement outside when staff chose one), and the cancellation record when the invoice
   is now credited in full; then have the database check the credit limits (constraint
   triggers deferred to commit, run at this point instead);
4. last, take the next number of the location's credit-note series and set it on the note.
   The counter row stays locked until commit, so numbers are gapless; taking it last keeps
   that per-location serial section down to two short statements and the commit;
5. announce ``credit_note.issued`` (and ``invoice.cancelled``); the PDF is queued after
   commit by ``credits.subscribers``.

It runs a constant number of SQL queries whatever the number of lines. Concurrent credits of
one invoice serialise on its row lock, so they never over-credit. Cancelling many invoices
(the admin's bulk action and background bulk cancellations) calls ``invoice_cancel`` once
per invoice, each in its own transaction. A refund of available account credit is
``refund_record``. PDFs and e-mails are in ``credits.documents``.
"""

import datetime
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from djmoney.money import Money

from coworking.einvoice import parties
from coworking.errors import ApplicationError, CurrencyMismatch
from coworking.events import EventType, announce
from coworking.l10n import human_number, plain_number
from coworking.locking import lock_rows
from coworking.models import Customer, LedgerEntry
from coworking.money import round_amount
from coworking.numbering import DocumentType, format_number, next_number
from coworking.queue import enqueue
from coworking.services import ledger_post
from coworking.text import is_single_line
from credits.documents import queue_credit_note_pdf
from credits.errors import (
    ConfirmationOutdated,
    CreditExceedsLine,
    CreditExceedsRate,
    CreditLineNotOnInvoice,
    InvalidAllocation,
    InvalidCancellation,
    InvalidCreditNote,
    InvalidRefund,
    NothingLeftToCredit,
    RefundExceedsCredit,
    TaxRateNotOnInvoice,
)
from credits.models import (
    BulkCancellation,
    BulkCancellationItem,
    CancellationEvent,
    CreditNote,
    CreditNoteLine,
    ReasonCode,
    Refund,
)
from credits.policies import cancel_refusal, credit_refusal, may_cancel, may_credit
from credits.selectors import (
    Creditable,
    CreditableLine,
    amount_figure,
    figures_changes,
    invoice_creditable,
    invoice_figures,
    tax_rate_key,
)
from invoicing.calculations import line_amounts
from invoicing.models import Channel, Invoice
from invoicing.selectors import available_credit
from invoicing.services import invoice_lock

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 1000
DESCRIPTION_MAX_LENGTH = 200
ZERO = Decimal("0.00")

_CANCELLATION_FIELDS = [
    "state",
    "cancelled_at",
    "cancelled_by",
    "cancellation_channel",
    "cancellation_reason",
]


# --- What a request may ask for ----------------------------------------------------------------


@dataclass(frozen=True)
class LineCredit:
    """Credit ``quantity`` of the invoice line whose id is ``invoice_line``."""

    invoice_line: int
    quantity: Decimal


@dataclass(frozen=True)
class AmountCredit:
    """Credit a free net amount at a tax rate of the invoice (tax is added at that rate)."""

    value: Money
    tax_rate: Decimal
    description: str = ""


class Rest(models.TextChoices):
    """Where what a credit note credits beyond what is due goes, once ``Allocation``'s
    amounts are taken: the admin's choice of "the excess, all of it" (read under the lock)."""

    ACCOUNT_CREDIT = "account_credit", _lazy("Account credit")
    REFUND = "refund", _lazy("Refund")
    SETTLED_OUTSIDE = "settled_outside", _lazy("Settled outside")


@dataclass(frozen=True)
class Allocation:
    """Of what a credit note credits beyond what is still due, how much is paid back to
    the customer (``refund``) or was settled outside the system (``settled_outside``); the
    rest becomes account credit, or a refund or settlement outside if ``rest`` says so."""

    refund: Money | None = None
    settled_outside: Money | None = None
    reference: str = ""
    rest: str = Rest.ACCOUNT_CREDIT


def _clean_request(*, reason: str | None, channel: str, error=InvalidCancellation) -> str:
    """The reason, stripped; raises ``error`` for an unknown channel or a reason longer than
    ``REASON_MAX_LENGTH``."""
    if channel not in Channel.values:
        raise error(_("Unknown channel: %(channel)s.") % {"channel": channel})
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise error(
            _("The reason is too long (%(length)s characters; at most %(max)s).")
            % {"length": len(reason), "max": REASON_MAX_LENGTH}
        )
    return reason


def _clean_reason_code(reason_code: str, *, error=InvalidCreditNote) -> str:
    if reason_code not in ReasonCode.values:
        raise error(
            _("Unknown reason code %(code)s; use one of: %(codes)s.")
            % {"code": reason_code, "codes": ", ".join(ReasonCode.values)}
        )
    return reason_code


def _decimal(value, *, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise InvalidCreditNote(_("%(what)s must be a decimal number.") % {"what": what})
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidCreditNote(_("%(what)s is not a number.") % {"what": what}) from None
    if not result.is_finite():
        raise InvalidCreditNote(_("%(what)s is not a number.") % {"what": what})
    return result


def _clean_lines(lines: Sequence[LineCredit]) -> list[LineCredit]:
    """Quantities as positive decimals with at most three places, each line once."""
    cleaned, seen = [], set()
    for line in lines:
        quantity = _decimal(line.quantity, what=_("The quantity"))
        if quantity <= 0 or quantity != quantity.quantize(Decimal("0.001")):
            raise InvalidCreditNote(
                _("Quantities to credit must be positive, with at most three decimals.")
            )
        if line.invoice_line in seen:
            raise InvalidCreditNote(_("Each invoice line can be listed once."))
        seen.add(line.invoice_line)
        cleaned.append(LineCredit(invoice_line=line.invoice_line, quantity=quantity))
    return cleaned


def _clean_amount(amount: AmountCredit | None) -> AmountCredit | None:
    if amount is None:
        return None
    if not isinstance(amount.value, Money):
        raise InvalidCreditNote(_("The amount must be Money."))
    value = amount.value.amount
    if value <= 0 or round_amount(value) != value:
        raise InvalidCreditNote(_("The amount must be positive and in whole cents."))
    description = (amount.description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidCreditNote(
            _("The description is too long (at most %(max)s characters).")
            % {"max": DESCRIPTION_MAX_LENGTH}
        )
    rate = _decimal(amount.tax_rate, what=_("The tax rate"))
    return AmountCredit(value=amount.value, tax_rate=rate, description=description)


# --- The operations ----------------------------------------------------------------------------


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
    request = _partial_request(
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


def _partial_request(*, lines, amount, reason, reason_code, channel) -> dict:
    """What a partial credit asks for, cleaned (raises ``InvalidCreditNote``)."""
    reason = _clean_request(reason=reason, channel=channel, error=InvalidCreditNote)
    reason_code = _clean_reason_code(reason_code)
    lines, amount = _clean_lines(lines), _clean_amount(amount)
    if not lines and amount is None:
        raise InvalidCreditNote(_("Choose at least one line to credit, or an amount."))
    return {"lines": lines, "amount": amount, "reason": reason, "reason_code": reason_code}


def _cancel_request(*, reason, reason_code, channel) -> dict:
    """What a cancel asks for, cleaned (raises ``InvalidCancellation``)."""
    return {
        "lines": [],
        "amount": None,
        "reason": _clean_request(reason=reason, channel=channel),
        "reason_code": _clean_reason_code(reason_code, error=InvalidCancellation),
    }


@dataclass(frozen=True)
class CreditNotePreview:
    """A credit note as it would be issued now, unsaved and without a number: the note
    (with its allocation: off the amount due, account credit, refund, settled outside) and
    its lines. A concurrent payment or credit note may overtake it; issuing checks again."""

    credit_note: CreditNote
    lines: list[CreditNoteLine]

    @property
    def credited(self) -> Money:
        """What the note credits, positive (the note states it negative)."""
        return -self.credit_note.total

    @property
    def rates(self) -> list[tuple[Decimal, Money, Money]]:
        """(tax rate, net, tax) per rate, highest first, in positive amounts."""
        zero = Money(0, self.credit_note.currency)
        sums: dict[Decimal, tuple[Money, Money]] = {}
        for line in self.lines:
            net, tax = sums.get(tax_rate_key(line.tax_rate), (zero, zero))
            sums[tax_rate_key(line.tax_rate)] = (net - line.net, tax - line.tax)
        return [(rate, net, tax) for rate, (net, tax) in sorted(sums.items(), reverse=True)]

    @property
    def stated_rates(self) -> list[tuple[Decimal, Money, Money, Money]]:
        """(tax rate, net, tax, gross) per rate as the note states them: negative, like its
        lines and its total."""
        return [(rate, -net, -tax, -(net + tax)) for rate, net, tax in self.rates]

    @property
    def figures(self) -> dict[str, str]:
        """What a confirmation page showing this preview computed from; give it back to
        ``credit_note_issue(as_shown=...)``."""
        return confirmation_figures(
            invoice=self.credit_note.invoice, credit_note=self.credit_note, lines=self.lines
        )


def confirmation_figures(
    *, invoice: Invoice, credit_note: CreditNote, lines: Sequence[CreditNoteLine]
) -> dict[str, str]:
    """The invoice's figures (``credits.selectors.invoice_figures``) and those of the note
    built from them: what it credits, how that is allocated, whether it cancels the invoice,
    and a digest of its lines (what is credited of which line, at which rate)."""
    parts = sorted(
        [
            line.invoice_line_id or 0,
            plain_number(line.quantity),
            amount_figure(line.net),
            amount_figure(line.tax),
            format(tax_rate_key(line.tax_rate), "f"),
        ]
        for line in lines
    )
    digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]
    return {
        **invoice_figures(invoice=invoice),
        "credit": amount_figure(-credit_note.total.amount),
        "off_due": amount_figure(credit_note.amount_off_due),
        "account_credit": amount_figure(credit_note.account_credit_amount),
        "refund": amount_figure(credit_note.refund_amount),
        "settled_outside": amount_figure(credit_note.settled_outside_amount),
        "cancels": "yes" if credit_note.cancels_invoice else "no",
        "lines": digest,
    }


def credit_note_preview(
    *,
    invoice: Invoice,
    lines: Sequence[LineCredit] = (),
    amount: AmountCredit | None = None,
    everything_left: bool = False,
    reason: str = "",
    reason_code: str = ReasonCode.OTHER,
    actor: AbstractBaseUser | None,
    channel: str,
    allocation: Allocation | None = None,
) -> CreditNotePreview:
    """The credit note ``credit_note_issue`` (or, with ``everything_left``, ``invoice_cancel``)
    would issue now, computed the same way but without the lock and without writing
    anything: for confirmation pages and the preview PDF. Raises what they raise."""
    if everything_left:
        request = _cancel_request(reason=reason, reason_code=reason_code, channel=channel)
    else:
        request = _partial_request(
            lines=lines, amount=amount, reason=reason, reason_code=reason_code, channel=channel
        )
    parts = _checked_parts(
        invoice,
        actor=actor,
        channel=channel,
        everything_left=everything_left,
        lines=request["lines"],
        amount=request["amount"],
    )
    credit_note, note_lines = _build(
        invoice=invoice,
        parts=parts,
        allocation=allocation or Allocation(),
        reason=request["reason"],
        reason_code=request["reason_code"],
        actor=actor,
        channel=channel,
    )
    return CreditNotePreview(credit_note=credit_note, lines=note_lines)


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
    ``credit_note.issued`` in its transaction (``credits.subscribers`` queues the PDF after
    commit).
    """
    request = _cancel_request(reason=reason, reason_code=reason_code, channel=channel)
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


# --- The core ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """One line of the credit note to write, in positive amounts."""

    invoice_line_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    vat: dict  # the VAT category, exemption reason and service period of the credited line


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
        invoice = invoice_lock(invoice_id=invoice_id, related=("location", "customer"))
        parts = _checked_parts(
            invoice,
            actor=actor,
            channel=channel,
            everything_left=everything_left,
            lines=lines,
            amount=amount,
        )
        credit_note, note_lines = _build(
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
        credit_note = _write(
            invoice=invoice,
            credit_note=credit_note,
            lines=note_lines,
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
            lambda: queue_credit_note_pdf(credit_note_id=credit_note_id), robust=True
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


def _checked_parts(
    invoice: Invoice, *, actor, channel: str, everything_left: bool, lines, amount
) -> list[_Part]:
    """Check that ``actor`` may credit (or cancel) ``invoice`` and that it can be, then
    work out the parts to credit from what is left (raises the refusal)."""
    if everything_left:
        may_cancel(actor=actor, channel=channel, invoice=invoice)
        refusal = cancel_refusal(invoice=invoice)
    else:
        may_credit(actor=actor, channel=channel, invoice=invoice)
        refusal = credit_refusal(invoice=invoice)
    if refusal is not None:
        raise refusal
    creditable = invoice_creditable(invoice=invoice)
    if everything_left:
        return _everything_left(creditable)
    return _requested_parts(creditable, lines=lines, amount=amount)


def _everything_left(creditable: Creditable) -> list[_Part]:
    """What is left of each line; at a tax rate where free amounts were credited (so its
    lines cannot all be credited in full any more), one part for what is left at the rate."""
    parts = []
    for rate in creditable.rates.values():
        at_rate = [line for line in creditable.lines if tax_rate_key(line.tax_rate) == rate.rate]
        if rate.amount_credited_net == 0:
            parts += [
                _line_part(
                    line,
                    quantity=line.remaining_quantity,
                    net=line.remaining_net,
                    tax=line.remaining_tax,
                )
                for line in at_rate
                if line.remaining_quantity > 0
            ]
        elif rate.remaining_net > 0 or rate.remaining_tax > 0:
            parts.append(
                _Part(
                    invoice_line_id=None,
                    description=_("Remainder at %(rate)s%% tax")
                    % {"rate": human_number(rate.rate)},
                    quantity=Decimal("1"),
                    unit_price=rate.remaining_net,
                    tax_rate=rate.rate,
                    net=rate.remaining_net,
                    tax=rate.remaining_tax,
                    vat=_rate_vat(creditable, rate.rate),
                )
            )
    return sorted(
        parts, key=lambda part: (part.invoice_line_id is None, _position(creditable, part))
    )


def _position(creditable: Creditable, part: _Part) -> int:
    line = creditable.line(part.invoice_line_id)
    return line.position if line is not None else 0


def _line_part(line: CreditableLine, *, quantity: Decimal, net: Decimal, tax: Decimal) -> _Part:
    return _Part(
        invoice_line_id=line.id,
        description=line.description,
        quantity=quantity,
        unit_price=line.unit_price,
        tax_rate=line.tax_rate,
        net=net,
        tax=tax,
        vat=line.vat,
    )


def _rate_vat(creditable: Creditable, rate: Decimal) -> dict:
    """For a free amount at ``rate``: the VAT category (and exemption reason) of the
    invoice's first line at that rate, without a service period."""
    line = next(line for line in creditable.lines if tax_rate_key(line.tax_rate) == rate)
    return {**line.vat, "period_start": None, "period_end": None}


def _requested_parts(
    creditable: Creditable, *, lines: list[LineCredit], amount: AmountCredit | None
) -> list[_Part]:
    """The parts a partial credit asks for, checked against what is left (per line, then
    per tax rate, the free amount after the lines)."""
    invoice = creditable.invoice
    left = {rate: [r.remaining_net, r.remaining_tax] for rate, r in creditable.rates.items()}
    parts = []
    for request in lines:
        line = creditable.line(request.invoice_line)
        if line is None:
            raise CreditLineNotOnInvoice(
                _("Line %(line)s is not a line of invoice %(number)s.")
                % {"line": request.invoice_line, "number": invoice.number}
            )
        if line.remaining_quantity <= 0:
            raise NothingLeftToCredit(
                _("Line %(position)s of %(number)s (%(description)s) is credited in full.")
                % {
                    "position": line.position,
                    "number": invoice.number,
                    "description": line.description,
                }
            )
        if request.quantity > line.remaining_quantity:
            raise CreditExceedsLine(
                _("Line %(position)s of %(number)s has %(left)s left to credit, not %(asked)s.")
                % {
                    "position": line.position,
                    "number": invoice.number,
                    "left": human_number(line.remaining_quantity),
                    "asked": human_number(request.quantity),
                }
            )
        net, tax = _part_amounts(line, quantity=request.quantity)
        rate_left = left[tax_rate_key(line.tax_rate)]
        if net > rate_left[0] or tax > rate_left[1]:
            raise CreditExceedsRate(
                _(
                    "Line %(position)s: at %(rate)s%% tax only %(net)s net and %(tax)s tax are "
                    "left to credit."
                )
                % {
                    "position": line.position,
                    "rate": human_number(line.tax_rate),
                    "net": rate_left[0],
                    "tax": rate_left[1],
                }
            )
        rate_left[0] -= net
        rate_left[1] -= tax
        parts.append(_line_part(line, quantity=request.quantity, net=net, tax=tax))
    parts.sort(key=lambda part: _position(creditable, part))
    if amount is not None:
        parts.append(_amount_part(creditable, amount=amount, left=left))
    if sum(part.net + part.tax for part in parts) <= 0:
        raise InvalidCreditNote(_("The credit note would credit nothing."))
    return parts


def _part_amounts(line: CreditableLine, *, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """Net and tax of crediting ``quantity`` more of ``line``: what the credited quantity is
    worth after this part minus what was credited before (the last part: what is left)."""
    after = line.credited_quantity + quantity
    if after == line.quantity:
        return line.remaining_net, line.remaining_tax
    worth = line_amounts(quantity=after, unit_price=line.unit_price, tax_rate=line.tax_rate)
    net = min(max(worth.net - line.credited_net, ZERO), line.remaining_net)
    tax = min(max(worth.tax - line.credited_tax, ZERO), line.remaining_tax)
    return net, tax


def _amount_part(creditable: Creditable, *, amount: AmountCredit, left: dict) -> _Part:
    invoice = creditable.invoice
    if str(amount.value.currency) != invoice.currency:
        raise CurrencyMismatch(
            _("The amount is in %(amount)s but invoice %(number)s is in %(invoice)s.")
            % {
                "amount": amount.value.currency,
                "number": invoice.number,
                "invoice": invoice.currency,
            }
        )
    rate = tax_rate_key(amount.tax_rate)
    if rate not in left:
        raise TaxRateNotOnInvoice(
            _(
                "Invoice %(number)s has no line at %(rate)s%% tax; an amount is credited at one "
                "of its rates (%(rates)s)."
            )
            % {
                "number": invoice.number,
                "rate": human_number(amount.tax_rate),
                "rates": ", ".join(human_number(r, percent=True) for r in left),
            }
        )
    if not is_single_line(amount.description):
        raise InvalidCreditNote(
            _("The description of the amount is printed on one line: remove its line breaks.")
        )
    net_left, tax_left = left[rate]
    net = amount.value.amount
    if net > net_left:
        raise CreditExceedsRate(
            _("At %(rate)s%% tax only %(left)s net is left to credit on invoice %(number)s.")
            % {"rate": human_number(rate), "left": net_left, "number": invoice.number}
        )
    if net == net_left:
        tax = tax_left
    else:
        tax = min(line_amounts(quantity=Decimal(1), unit_price=net, tax_rate=rate).tax, tax_left)
    return _Part(
        invoice_line_id=None,
        description=amount.description
        or _("Credit at %(rate)s%% tax") % {"rate": human_number(rate)},
        quantity=Decimal("1"),
        unit_price=net,
        tax_rate=rate,
        net=net,
        tax=tax,
        vat=_rate_vat(creditable, rate),
    )


def _allocate(
    *, invoice: Invoice, credited: Money, allocation: Allocation
) -> tuple[Money, Money, Money, Money]:
    """Split ``credited`` into (off the amount due, account credit, refund, settled
    outside): first what is still due, then what staff chose, the rest account credit."""
    currency = invoice.currency
    off_due = min(credited, invoice.amount_due)
    excess = credited - off_due
    refund, settled = (
        allocation.refund or Money(0, currency),
        allocation.settled_outside or Money(0, currency),
    )
    for part in (refund, settled):
        if not isinstance(part, Money) or str(part.currency) != currency:
            raise InvalidAllocation(
                _("Refunds and settlements are amounts in the invoice's currency (%(currency)s).")
                % {"currency": currency}
            )
        if part.amount < 0 or round_amount(part.amount) != part.amount:
            raise InvalidAllocation(_("Refund and settled amounts are positive whole cents."))
    if refund + settled > excess:
        raise InvalidAllocation(
            _(
                "Only %(excess)s of this credit is beyond what is due on %(number)s; refund and "
                "settle at most that."
            )
            % {"excess": excess, "number": invoice.number}
        )
    rest = excess - refund - settled
    if allocation.rest == Rest.REFUND:
        return off_due, Money(0, currency), refund + rest, settled
    if allocation.rest == Rest.SETTLED_OUTSIDE:
        return off_due, Money(0, currency), refund, settled + rest
    if allocation.rest != Rest.ACCOUNT_CREDIT:
        raise InvalidAllocation(_("Unknown allocation: %(rest)s.") % {"rest": allocation.rest})
    return off_due, rest, refund, settled


def _tax_in_vat_currency(*, invoice: Invoice, tax: Decimal, completes: bool) -> Decimal | None:
    """The note's own VAT in the invoice's VAT currency (BT-111), negative, at the rate of
    the invoice it corrects; ``None`` when the invoice is in its VAT currency.

    Rounded once per note, never beyond what the earlier notes left; the note that credits
    the invoice in full takes exactly that rest, so the notes of an invoice reverse its VAT
    in the VAT currency to the cent."""
    rate = invoice.vat_exchange_rate
    if rate is None:
        return None
    earlier = CreditNote.objects.filter(invoice_id=invoice.pk).aggregate(
        total=Sum("tax_total_vat_currency")
    )["total"] or Decimal("0.00")
    left = invoice.tax_total_vat_currency + earlier  # the earlier notes' amounts are negative
    return -left if completes else -min(round_amount(tax * rate), left)


def _build(
    *,
    invoice: Invoice,
    parts: list[_Part],
    allocation: Allocation,
    reason: str,
    reason_code: str,
    actor,
    channel: str,
) -> tuple[CreditNote, list[CreditNoteLine]]:
    """The credit note of ``parts`` and its lines, unsaved and without a number."""
    currency = invoice.currency
    if not parts:
        raise NothingLeftToCredit(
            _("Nothing is left to credit on invoice %(number)s.") % {"number": invoice.number}
        )
    net = Money(sum((part.net for part in parts), ZERO), currency)
    tax = Money(sum((part.tax for part in parts), ZERO), currency)
    credited = net + tax
    off_due, account_credit, refund, settled = _allocate(
        invoice=invoice, credited=credited, allocation=allocation
    )
    credit_note = CreditNote(
        location=invoice.location,
        customer_id=invoice.customer_id,
        invoice=invoice,
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date,
        issue_date=timezone.localdate(),
        currency=currency,
        net_total=-net,
        tax_total=-tax,
        total=-credited,
        amount_off_due=off_due,
        account_credit_amount=account_credit,
        refund_amount=refund,
        settled_outside_amount=settled,
        reason=reason,
        reason_code=reason_code,
        cancels_invoice=invoice.amount_credited + credited == invoice.total,
        created_by=actor,
        channel=channel,
        buyer_reference=invoice.buyer_reference,
        seller=parties.snapshot(parties.seller(invoice.location)),
        buyer=parties.snapshot(parties.buyer(invoice.customer)),
        vat_currency=invoice.vat_currency,
        vat_exchange_rate=invoice.vat_exchange_rate,
        tax_total_vat_currency=_tax_in_vat_currency(
            invoice=invoice,
            tax=tax.amount,
            completes=invoice.amount_credited + credited == invoice.total,
        ),
    )
    lines = [
        CreditNoteLine(
            credit_note=credit_note,
            invoice_line_id=part.invoice_line_id,
            position=position,
            description=part.description[:DESCRIPTION_MAX_LENGTH],
            quantity=-part.quantity,
            unit_price=Money(part.unit_price, currency),
            tax_rate=part.tax_rate,
            net=Money(-part.net, currency),
            tax=Money(-part.tax, currency),
            **part.vat,
        )
        for position, part in enumerate(parts, start=1)
    ]
    return credit_note, lines


def _write(
    *,
    invoice: Invoice,
    credit_note: CreditNote,
    lines: list[CreditNoteLine],
    allocation: Allocation,
    reason: str,
    actor,
    channel: str,
    started_at,
) -> CreditNote:
    """Write the credit note ``_build`` made and everything that goes with it; the number
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
    credit_note.save(force_insert=True)
    CreditNoteLine.objects.bulk_create(lines)
    # The ledger names the invoice (the note's number is not taken yet; the entry links it).
    ledger_post(
        customer_id=invoice.customer_id,
        kind=LedgerEntry.Kind.CREDIT_NOTE,
        amount=-credited,
        description=(
            _("Credit note cancelling %(invoice)s") if cancels else _("Credit note on %(invoice)s")
        )
        % {"invoice": invoice.number},
        invoice_id=invoice.pk,
        credit_note=credit_note,
    )
    for kind, part in ((Refund.Kind.REFUND, refund), (Refund.Kind.SETTLED_OUTSIDE, settled)):
        if part.amount > 0:
            _refund_write(
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
    _number(credit_note=credit_note, prefix=invoice.location.credit_note_prefix)
    return credit_note


# The constraint trigger that holds the over-credit rule (migration 0008), deferred to commit.
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


def _refund_write(
    *,
    customer_id: int,
    kind: str,
    amount: Money,
    credit_note,
    invoice,
    reference: str,
    actor,
    channel: str,
) -> Refund:
    refund = Refund.objects.create(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        credit_note=credit_note,
        reference=(reference or "")[:100],
        created_by=actor,
        channel=channel,
    )
    if kind == Refund.Kind.REFUND:
        description = _("Refund of account credit")
    else:
        description = _("Account credit settled outside")
    if invoice is not None:
        description = f"{description} ({invoice.number})"
    ledger_post(
        customer_id=customer_id,
        kind=LedgerEntry.Kind.REFUND
        if kind == Refund.Kind.REFUND
        else LedgerEntry.Kind.SETTLED_OUTSIDE,
        amount=amount,
        description=description,
        invoice_id=invoice.pk if invoice is not None else None,
        refund=refund,
    )
    return refund


@transaction.atomic
def refund_record(
    *,
    customer: Customer | int,
    amount: Money,
    actor: AbstractBaseUser | None,
    channel: str,
    kind: str = Refund.Kind.REFUND,
    reference: str = "",
) -> Refund:
    """Pay back (or record as settled outside) account credit the customer holds.

    Never more than the credit available in that currency, read under the customer's row
    lock (the lock that serialises spending credit, see ``invoicing.services``), so two
    refunds at once cannot take the same credit twice. Posts a debit on the ledger.
    Raises ``InvalidRefund`` (not a positive amount in whole cents, unknown kind or
    channel), ``RefundExceedsCredit`` or ``Customer.DoesNotExist``; nothing is written then.
    """
    if channel not in Channel.values or kind not in Refund.Kind.values:
        raise InvalidRefund(_("Unknown channel or kind of refund."))
    if (
        not isinstance(amount, Money)
        or amount.amount <= 0
        or round_amount(amount.amount) != amount.amount
    ):
        raise InvalidRefund(_("The amount must be positive Money in whole cents."))
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    customer = lock_rows(Customer.objects.all()).get(pk=customer_id)
    credit = available_credit(customer=customer, currency=str(amount.currency))
    if amount > credit:
        raise RefundExceedsCredit(
            _("%(customer)s holds %(credit)s of account credit; %(amount)s cannot be refunded.")
            % {"customer": customer, "credit": credit, "amount": amount}
        )
    return _refund_write(
        customer_id=customer.pk,
        kind=kind,
        amount=amount,
        credit_note=None,
        invoice=None,
        reference=reference,
        actor=actor,
        channel=channel,
    )


# --- Cancelling many invoices (admin bulk action, background bulk cancellations) -------------


@dataclass(frozen=True)
class CancellationResult:
    """What happened to one invoice of a selection: cancelled, skipped, failed or (time ran
    out before its turn) still pending."""

    invoice_id: int
    invoice_label: str
    outcome: str  # a BulkCancellationItem.Outcome value
    credit_note: CreditNote | None = None
    message: str = ""
    code: str = ""  # the refusal's error code, if any


def _cancel_one(
    *,
    invoice_id: int,
    invoice_label: str,
    actor,
    reason: str,
    channel: str,
    as_shown: Mapping[str, str] | None = None,
) -> CancellationResult:
    """Cancel one invoice in its own transaction (a savepoint when called inside one).

    Never raises for a refusal or a database failure: it becomes the result, so that one
    invoice cannot undo or stop the others.
    """
    Outcome = BulkCancellationItem.Outcome
    try:
        credit_note = invoice_cancel(
            invoice=invoice_id, actor=actor, reason=reason, channel=channel, as_shown=as_shown
        )
    except ApplicationError as error:
        if error.skip_reason:
            return CancellationResult(
                invoice_id, invoice_label, Outcome.SKIPPED, message=str(error.skip_reason)
            )
        return CancellationResult(
            invoice_id, invoice_label, Outcome.FAILED, message=error.message, code=error.code
        )
    except Exception:
        # A bug or a database refusal: log it with its traceback, report it, carry on.
        logger.exception("Cancelling invoice id %s failed.", invoice_id)
        return CancellationResult(
            invoice_id,
            invoice_label,
            Outcome.FAILED,
            message=_("unexpected error; it has been logged"),
        )
    return CancellationResult(invoice_id, invoice_label, Outcome.CANCELLED, credit_note=credit_note)


def invoices_cancel_each(
    *,
    invoice_ids: Sequence[int],
    actor,
    reason: str = "",
    channel: str,
    time_budget: float | None = None,
    as_shown: Mapping[int, Mapping[str, str]] | None = None,
) -> list[CancellationResult]:
    """Cancel each invoice through ``invoice_cancel``, each in its own transaction.

    One refusal or failure does not undo or stop the others. Returns one result per id,
    in id order: ``cancelled`` (with its credit note), ``skipped`` (draft, already
    cancelled, e.g. a double submit, or gone), ``failed`` (with the reason) or, when
    ``time_budget`` seconds ran out before its turn, ``pending`` (not attempted, nothing
    written: select it again). The first invoice is always attempted. Raises
    ``InvalidCancellation`` before touching anything when the reason is not valid. Called
    inside a transaction, each invoice gets a savepoint instead, and the caller's commit
    decides for all of them.

    With ``as_shown`` (invoice id → the ``invoice_figures`` a confirmation page showed), an
    invoice whose figures changed since, or that the page did not list as one to cancel,
    fails with ``confirmation_outdated`` and is left as it is.
    """
    reason = _clean_request(reason=reason, channel=channel)
    ids = sorted(set(invoice_ids))
    labels = {invoice.pk: str(invoice) for invoice in Invoice.objects.filter(pk__in=ids)}
    deadline = None if time_budget is None else time.monotonic() + time_budget
    results = []
    for invoice_id in ids:
        label = labels.get(invoice_id, f"#{invoice_id}")
        if results and deadline is not None and time.monotonic() >= deadline:
            message = _("not attempted: the time allowed for one request ran out")
            outcome = BulkCancellationItem.Outcome.PENDING
            results.append(CancellationResult(invoice_id, label, outcome, message=message))
            continue
        results.append(
            _cancel_one(
                invoice_id=invoice_id,
                invoice_label=label,
                actor=actor,
                reason=reason,
                channel=channel,
                as_shown=None if as_shown is None else as_shown.get(invoice_id, {}),
            )
        )
    return results


def bulk_cancellation_start(
    *,
    invoice_ids: Sequence[int],
    actor,
    reason: str = "",
    channel: str = Channel.ADMIN_BULK,
    as_shown: Mapping[int, Mapping[str, str]] | None = None,
) -> BulkCancellation:
    """Record a bulk cancellation (one pending item per existing invoice) and queue its task.

    With ``as_shown`` (invoice id → the ``invoice_figures`` its confirmation showed), each
    item keeps its invoice's figures and the run cancels it only if they still hold under the
    invoice's lock (else the item fails with ``confirmation_outdated``).

    The task is queued after commit; if the broker is down the record stays ``queued``
    and can be queued again (running it twice is safe, see ``bulk_cancellation_run``).
    Raises ``InvalidCancellation`` (bad reason or channel, nothing selected) with nothing
    written.
    """
    reason = _clean_request(reason=reason, channel=channel)
    ids = list(
        Invoice.objects.filter(pk__in=set(invoice_ids)).order_by("pk").values_list("pk", flat=True)
    )
    if not ids:
        raise InvalidCancellation(_("No invoices were selected."))
    with transaction.atomic():
        bulk = BulkCancellation.objects.create(
            created_by=actor, reason=reason, channel=channel, total=len(ids)
        )
        BulkCancellationItem.objects.bulk_create(
            [
                BulkCancellationItem(
                    bulk=bulk,
                    invoice_id=invoice_id,
                    as_shown=None if as_shown is None else dict(as_shown.get(invoice_id, {})),
                )
                for invoice_id in ids
            ],
            batch_size=1000,
        )
        transaction.on_commit(lambda: queue_bulk_cancellation(bulk_id=bulk.pk), robust=True)
    return bulk


def queue_bulk_cancellation(*, bulk_id: int) -> bool:
    """Hand a bulk cancellation to the task queue; ``False`` (and a log line) if the broker
    is down, leaving it ``queued``."""
    from credits.tasks import run_bulk_cancellation

    return enqueue(
        run_bulk_cancellation,
        bulk_id,
        if_down="Beat's requeue_bulk_cancellations retries it.",
        long_running=True,
    )


def bulk_cancellations_requeue() -> list[int]:
    """Queue again the bulk cancellations a worker should be running and is not; return
    their ids.

    - still ``queued`` ``BULK_CANCELLATION_REQUEUE_AFTER`` seconds after they were started:
      the task never reached the broker, or was lost;
    - ``running`` with no heartbeat for ``BULK_CANCELLATION_STALE_AFTER`` seconds: the
      worker died mid-run (its message waits in the broker's unacknowledged set until the
      visibility timeout). The heartbeat is moved to now as the run is queued, so a run
      still waiting behind others is not queued again at every sweep.

    A run queued twice is safe: runners share the pending items (``bulk_cancellation_run``)
    and an invoice is never cancelled twice.
    """
    now = timezone.now()
    queued_before = now - datetime.timedelta(seconds=settings.BULK_CANCELLATION_REQUEUE_AFTER)
    silent_since = now - datetime.timedelta(seconds=settings.BULK_CANCELLATION_STALE_AFTER)
    Status = BulkCancellation.Status
    never_ran = BulkCancellation.objects.filter(status=Status.QUEUED, created_at__lt=queued_before)
    with transaction.atomic():
        stale = list(
            lock_rows(BulkCancellation.objects.filter(status=Status.RUNNING), skip_locked=True)
            .filter(
                Q(heartbeat_at__lt=silent_since)
                | Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
            )
            .values_list("pk", flat=True)
        )
        BulkCancellation.objects.filter(pk__in=stale).update(heartbeat_at=now)
    for bulk_id in stale:
        logger.warning(
            "Bulk cancellation %s: no heartbeat for %s s, its worker is gone; queued again.",
            bulk_id,
            settings.BULK_CANCELLATION_STALE_AFTER,
            extra={"event": "bulk_cancellation.stale", "bulk_cancellation": bulk_id},
        )
    ids = sorted({*never_ran.values_list("pk", flat=True), *stale})
    return [bulk_id for bulk_id in ids if queue_bulk_cancellation(bulk_id=bulk_id)]


class _BulkProgress:
    """The log lines of one runner's share of a bulk cancellation: when it starts, every
    ``EVERY`` invoices, and when it ends (counts per outcome, duration)."""

    EVERY = 100

    def __init__(self, bulk: BulkCancellation):
        self.bulk, self.started = bulk, time.perf_counter()
        Outcome = BulkCancellationItem.Outcome
        self.counts = dict.fromkeys([Outcome.CANCELLED, Outcome.SKIPPED, Outcome.FAILED], 0)
        self._log("started", "Bulk cancellation %s started (%s invoices).", bulk.pk, bulk.total)

    def processed(self, outcome: str) -> None:
        self.counts[outcome] += 1
        done = sum(self.counts.values())
        if done % self.EVERY == 0:
            message = "Bulk cancellation %s: %s of %s invoices processed."
            self._log("progress", message, self.bulk.pk, done, self.bulk.total)

    def finished(self) -> None:
        message = "Bulk cancellation %s: runner done (%s cancelled, %s skipped, %s failed)."
        self._log("finished", message, self.bulk.pk, *self.counts.values())

    def _log(self, stage: str, message: str, *args) -> None:
        created_by = self.bulk.created_by
        logger.info(
            message,
            *args,
            extra={
                "event": f"bulk_cancellation.{stage}",
                "bulk_cancellation": self.bulk.pk,
                "total": self.bulk.total,
                **{str(outcome): count for outcome, count in self.counts.items()},
                "actor": created_by.get_username() if created_by else None,
                "channel": self.bulk.channel,
                "duration_ms": round((time.perf_counter() - self.started) * 1000, 1),
            },
        )


class _Heartbeat:
    """A runner's sign of life on its bulk cancellation, written at most every
    ``EVERY`` seconds (in its own statement, outside the items' transactions)."""

    EVERY = 1.0

    def __init__(self, bulk_id: int):
        self.bulk_id, self.last = bulk_id, time.monotonic()

    def beat(self) -> None:
        if time.monotonic() - self.last >= self.EVERY:
            BulkCancellation.objects.filter(pk=self.bulk_id).update(heartbeat_at=timezone.now())
            self.last = time.monotonic()


def bulk_cancellation_run(*, bulk_id: int) -> BulkCancellation:
    """Work through the pending items of a bulk cancellation; return it, refreshed.

    Each item is claimed (``FOR UPDATE SKIP LOCKED``) and its invoice cancelled through
    ``invoice_cancel`` in one transaction together with the item's outcome, so a crash
    never leaves an invoice cancelled with its item still pending, and two runners (a
    redelivered task) share the work instead of doing it twice. Items run in id order. The
    run keeps a heartbeat (``heartbeat_at``) so that beat can queue it again when its worker
    dies (``bulk_cancellations_requeue``).
    The bulk is marked ``done`` by whichever runner finds no pending item left. Raises
    ``BulkCancellation.DoesNotExist`` for an unknown id.
    """
    Outcome = BulkCancellationItem.Outcome
    bulk = BulkCancellation.objects.select_related("created_by").get(pk=bulk_id)
    now = timezone.now()
    BulkCancellation.objects.filter(pk=bulk_id, status=BulkCancellation.Status.QUEUED).update(
        status=BulkCancellation.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    pending = BulkCancellationItem.objects.filter(bulk_id=bulk_id, outcome=Outcome.PENDING)
    progress = _BulkProgress(bulk)
    heartbeat = _Heartbeat(bulk_id)
    while True:
        heartbeat.beat()
        with transaction.atomic():
            item = (
                lock_rows(pending.select_related("invoice"), skip_locked=True)
                .order_by("pk")
                .first()
            )
            if item is None:
                break
            result = _cancel_one(
                invoice_id=item.invoice_id,
                invoice_label=str(item.invoice),
                actor=bulk.created_by,
                reason=bulk.reason,
                channel=bulk.channel,
                as_shown=item.as_shown,
            )
            item.outcome = result.outcome
            item.credit_note = result.credit_note
            item.message = result.message
            item.processed_at = timezone.now()
            item.save(update_fields=["outcome", "credit_note", "message", "processed_at"])
        progress.processed(result.outcome)
    progress.finished()
    if not pending.exists():
        BulkCancellation.objects.filter(pk=bulk_id).exclude(
            status=BulkCancellation.Status.DONE
        ).update(status=BulkCancellation.Status.DONE, finished_at=timezone.now())
    bulk.refresh_from_db()
    return bulk
