"""The credit note a request would issue, unsaved and without a number: the checks of who
may credit what, the parts worked out from what is left (``credits.calculations``), and how
what it credits is allocated. Shared by the preview and the issue core.
"""

from decimal import Decimal

from django.db.models import Sum, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.einvoice import parties
from coworking.money import in_whole_cents
from credits.calculations import (
    ZERO,
    Part,
    everything_left_parts,
    requested_parts,
    vat_currency_tax,
)
from credits.errors import InvalidAllocation, NothingLeftToCredit
from credits.models import CreditNote, CreditNoteLine
from credits.policies import cancel_refusal, credit_refusal, may_cancel, may_credit
from credits.selectors import invoice_creditable
from credits.services.requests import DESCRIPTION_MAX_LENGTH, Allocation, Rest
from invoicing.calculations import document_net
from invoicing.models import Invoice


def checked_parts(
    invoice: Invoice, *, actor, channel: str, everything_left: bool, lines, amount
) -> list[Part]:
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
        return everything_left_parts(creditable)
    return requested_parts(creditable, lines=lines, amount=amount)


def allocate(
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
        if part.amount < 0 or not in_whole_cents(part.amount):
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

    Reads what the earlier notes left; ``credits.calculations.vat_currency_tax`` rounds."""
    rate = invoice.vat_exchange_rate
    if rate is None:
        return None
    earlier = CreditNote.objects.filter(invoice_id=invoice.pk).aggregate(
        total=Sum("tax_total_vat_currency")
    )["total"] or Decimal("0.00")
    left = invoice.tax_total_vat_currency + earlier  # the earlier notes' amounts are negative
    return vat_currency_tax(tax=tax, rate=rate, left=left, completes=completes)


def build_credit_note(
    *,
    invoice: Invoice,
    parts: list[Part],
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
    # What the invoice's document level discounts and charges move its base by, credited
    # with it (only a cancel credits such an invoice: ``credits.policies``).
    prefetch_related_objects([invoice], "allowance_charges")  # read once, mirrored later
    moved = sum((row.signed_amount for row in invoice.allowance_charges.all()), ZERO)
    net = Money(document_net((part.net for part in parts), [moved]), currency)
    tax = Money(sum((part.tax for part in parts), ZERO), currency)
    credited = net + tax
    off_due, account_credit, refund, settled = allocate(
        invoice=invoice, credited=credited, allocation=allocation
    )
    credit_note = CreditNote(
        location=invoice.location,
        customer=invoice.customer,
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
            **part.allowance,
        )
        for position, part in enumerate(parts, start=1)
    ]
    return credit_note, lines
