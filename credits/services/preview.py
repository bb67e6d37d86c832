"""The credit note as it would be issued now, for confirmation pages and the preview PDF,
and the figures a confirmation page showed, checked again under the lock when issuing.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from djmoney.money import Money

from coworking.l10n import plain_number
from credits.models import CreditNote, CreditNoteLine, ReasonCode
from credits.selectors import amount_figure, invoice_figures, tax_rate_key
from credits.services.drafting import build_credit_note, checked_parts
from credits.services.requests import (
    Allocation,
    AmountCredit,
    LineCredit,
    cancel_request,
    partial_request,
)
from invoicing.models import Invoice


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
        request = cancel_request(reason=reason, reason_code=reason_code, channel=channel)
    else:
        request = partial_request(
            lines=lines, amount=amount, reason=reason, reason_code=reason_code, channel=channel
        )
    parts = checked_parts(
        invoice,
        actor=actor,
        channel=channel,
        everything_left=everything_left,
        lines=request["lines"],
        amount=request["amount"],
    )
    credit_note, note_lines = build_credit_note(
        invoice=invoice,
        parts=parts,
        allocation=allocation or Allocation(),
        reason=request["reason"],
        reason_code=request["reason_code"],
        actor=actor,
        channel=channel,
    )
    return CreditNotePreview(credit_note=credit_note, lines=note_lines)
