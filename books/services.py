"""The books' writes: the entry of each money event, closing a period, building the
journal of documents issued before the books existed.

The ``post_*`` functions run inside the event's transaction (``books.subscribers``): an
event that cannot be posted (its date is in a closed period) is refused as a whole.
"""

import datetime
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as noop

from books.errors import InvalidPeriod
from books.models import ClosedPeriod, Journal, JournalEntry, Purpose
from books.posting import (
    ZERO,
    EntryHead,
    Leg,
    Prepared,
    accounting_currency,
    post,
    prepare,
    rate_on,
    write,
)
from coworking.locking import lock_rows
from coworking.models import Location
from coworking.money import round_amount
from credits.models import CreditNote, Refund
from invoicing.calculations import allocate
from invoicing.models import Invoice, Payment


def document_rate(document, *, location: Location) -> Decimal | None:
    return vat_rate(
        currency=document.currency,
        location=location,
        stated=document.vat_exchange_rate,
        issue_date=document.issue_date,
    )


def vat_rate(
    *, currency: str, location: Location, stated: Decimal | None, issue_date: datetime.date
) -> Decimal | None:
    """The rate from a document's ``currency`` to its location's accounting currency: the
    one it ``stated``, else the recorded one of its issue date; ``None`` when it is already
    in the accounting currency. Takes the columns, so a check reads them without the
    document."""
    to = accounting_currency(location)
    if currency == to:
        return None
    if stated is not None:
        return stated
    return rate_on(currency=currency, to=to, date=issue_date)


def _rate_key(rate: Decimal | str) -> str:
    return f"{Decimal(rate):.2f}"


def vat_split(
    document, *, rate: Decimal | None, lines: list | None = None
) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """The document's VAT per (category, rate): (in its currency, in the accounting
    currency). A converted document's stated VAT total is shared out by rate, the last rate
    taking what is left, so the parts add up to the VAT the document states."""
    taxes: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for line in document.lines.all() if lines is None else lines:
        taxes[(line.vat_category, _rate_key(line.tax_rate))] += line.tax.amount
    return split_taxes(
        taxes,
        rate=rate,
        stated=document.tax_total_vat_currency,
        tax_total=document.tax_total.amount,
    )


def split_taxes(
    taxes: Mapping[tuple[str, Any], Decimal],
    *,
    rate: Decimal | None,
    stated: Decimal | None,
    tax_total: Decimal,
) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """``vat_split`` of a document's VAT already summed per (category, rate): what a check
    reads grouped in SQL instead of loading the document and its lines."""
    keyed: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for (category, tax_rate), tax in taxes.items():
        keyed[(category, _rate_key(tax_rate))] += tax
    ordered = {key: tax for key, tax in sorted(keyed.items()) if tax}
    if rate is None:
        return {key: (tax, tax) for key, tax in ordered.items()}
    if stated is None:
        stated = round(tax_total * rate, 2)
    split, left = {}, stated
    for index, (key, tax) in enumerate(ordered.items()):
        part = left if index == len(ordered) - 1 else round(tax * rate, 2)
        split[key] = (tax, part)
        left -= part
    return split


def _document_legs(document, *, rate: Decimal | None) -> list[Leg]:
    """Revenue per supply kind, category and rate, and output VAT per category and rate,
    with the sign of the document (an invoice credits them, a credit note debits them)."""
    currency = document.currency
    lines = list(document.lines.all())
    nets: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        kind = getattr(line, "supply_kind", "") or ""
        nets[(kind, line.vat_category, _rate_key(line.tax_rate))] += line.net.amount
    _net_of_allowances(nets, document)
    legs = [
        Leg(
            purpose=Purpose.REVENUE,
            amount=-net,
            currency=currency,
            keys=tuple(k for k in (kind, category) if k),
            vat_category=category,
            tax_rate=Decimal(tax_rate),
        )
        for (kind, category, tax_rate), net in sorted(nets.items())
    ]
    for (category, tax_rate), (tax, converted) in vat_split(
        document, rate=rate, lines=lines
    ).items():
        legs.append(
            Leg(
                purpose=Purpose.OUTPUT_VAT,
                amount=-tax,
                currency=currency,
                keys=(f"{category}:{tax_rate}", category),
                vat_category=category,
                tax_rate=Decimal(tax_rate),
                accounting=-converted,
            )
        )
    return legs


def _net_of_allowances(nets: dict[tuple[str, str, str], Decimal], document) -> None:
    """Revenue net of the document level discounts and charges (no chart has an account of
    its own for them): each one is shared over the revenue of its VAT breakdown in
    proportion to it (``invoicing.calculations.allocate``), so every revenue account holds
    what was sold net, and the entry still balances against the document's total. Stored
    positive on both kinds of document; a credit note's revenue is negative."""
    sign = -1 if isinstance(document, CreditNote) else 1
    for row in document.allowance_charges.all():
        keys = [
            key
            for key in sorted(nets)
            if key[1] == row.vat_category and key[2] == _rate_key(row.tax_rate)
        ]
        if not keys:  # the breakdown's lines are all gone: cannot happen, kept whole
            keys = [("", row.vat_category, _rate_key(row.tax_rate))]
        shares = allocate(row.amount.amount, [abs(nets[key]) for key in keys])
        for key, share in zip(keys, shares, strict=True):
            nets[key] += sign * (share if row.is_charge else -share)


def _label(location: Location, text: str, **values) -> str:
    with translation.override(location.language or None):
        return _(text) % values


def post_invoice(*, invoice: Invoice, with_credit: bool = True) -> None:
    """The sales entry of an issued invoice and, ``with_credit``, the entry of account
    credit applied to it at issue."""
    invoice_write(
        invoice=invoice, prepared=invoice_prepare(invoice=invoice), with_credit=with_credit
    )


def invoice_prepare(*, invoice: Invoice) -> Prepared | None:
    """The invoice's sales entry worked out without its number (``books.subscribers``
    prepares it before the invoice takes one); :func:`invoice_write` sets what carries it.
    The receivable balances the entry, so it needs no conversion, whatever its lettering."""
    location = invoice.location
    rate = document_rate(invoice, location=location)
    legs = _document_legs(invoice, rate=rate)
    legs.append(
        Leg(
            purpose=Purpose.RECEIVABLE,
            amount=invoice.total.amount,
            currency=invoice.currency,
            customer_id=invoice.customer_id,
            balances=True,
        )
    )
    return prepare(
        head=EntryHead(
            location=location,
            journal=Journal.SALES,
            date=invoice.issue_date or timezone.localdate(),
            source=f"invoice:{invoice.pk}",
            label="",
            document_date=invoice.issue_date,
            customer_id=invoice.customer_id,
        ),
        legs=legs,
        rate=rate,
    )


def invoice_write(*, invoice: Invoice, prepared: Prepared | None, with_credit: bool = True) -> None:
    """Write the entry :func:`invoice_prepare` made for the numbered ``invoice``, then,
    ``with_credit``, post the account credit applied to it (its conversion reads the
    entry's receivable)."""
    if prepared is not None:
        _numbered(
            prepared,
            number=invoice.number,
            lettered=Purpose.RECEIVABLE,
            label=_label(
                invoice.location,
                noop("Invoice %(number)s, %(customer)s"),
                number=invoice.number,
                customer=invoice.customer.billing_name,
            ),
        )
    if with_credit and invoice.amount_paid.amount:  # at issue, paid only by account credit
        for payment in invoice.payments.filter(method=Payment.Method.ACCOUNT_CREDIT):
            post_payment(payment=payment, invoice=invoice)


def _numbered(prepared: Prepared, *, number: str, lettered: str, label: str) -> None:
    """Write a document's prepared entry once the document has ``number``: the entry's
    document and label, and the lettering of its ``lettered`` lines (the document's open
    item), carry it."""
    entry = prepared.entry
    entry.document_number, entry.label = number, label[:200]
    for line in prepared.lines:
        if line.purpose == lettered:
            line.lettering = number
    write(prepared)


def post_payment(*, payment: Payment, invoice: Invoice | None = None) -> None:
    """Money received (bank journal), or account credit applied (miscellaneous journal)."""
    invoice = invoice or payment.invoice
    location = invoice.location
    customer = invoice.customer
    amount = payment.amount.amount
    receivable = Leg(
        purpose=Purpose.RECEIVABLE,
        amount=-amount,
        currency=invoice.currency,
        customer_id=customer.pk,
        lettering=invoice.number,
    )
    if payment.method == Payment.Method.ACCOUNT_CREDIT:
        journal, source = Journal.MISC, f"credit_applied:{payment.pk}"
        label = _label(
            location,
            noop("Account credit applied to %(number)s, %(customer)s"),
            number=invoice.number,
            customer=customer.billing_name,
        )
        other = Leg(
            purpose=Purpose.CREDIT_HELD,
            amount=amount,
            currency=invoice.currency,
            customer_id=customer.pk,
        )
    else:
        journal, source = Journal.BANK, f"payment:{payment.pk}"
        label = _label(
            location,
            noop("Payment for %(number)s, %(customer)s"),
            number=invoice.number,
            customer=customer.billing_name,
        )
        other = Leg(
            purpose=Purpose.BANK,
            amount=amount,
            currency=invoice.currency,
            keys=(payment.method,),
            balances=True,
        )
    post(
        head=EntryHead(
            location=location,
            journal=journal,
            date=payment.received_on,
            source=source,
            label=label,
            document_number=invoice.number,
            document_date=invoice.issue_date,
            customer_id=customer.pk,
        ),
        legs=[other, receivable],
        rate=document_rate(invoice, location=location),
    )


def post_credit_note(*, credit_note: CreditNote) -> None:
    """The sales entry of a credit note (what it takes off the amount due, puts to account
    credit, and owes back), then the entry of each refund it makes."""
    credit_note_write(
        credit_note=credit_note, prepared=credit_note_prepare(credit_note=credit_note)
    )


def credit_note_prepare(*, credit_note: CreditNote) -> Prepared | None:
    """The credit note's sales entry worked out without its number, which it may not have
    yet (``books.subscribers`` prepares it before the note takes its number, so none of
    this runs while the location's counter row is locked). What carries the number (the
    entry's document and label, the lettering of what it owes back) is set by
    :func:`credit_note_write`; what it owes back is a new open item, so it is converted at
    the document's rate whatever its lettering."""
    # The invoice the service locked, with its location and customer.
    location = credit_note.invoice.location
    rate = document_rate(credit_note, location=location)
    currency = credit_note.currency
    customer_id = credit_note.customer_id
    owed_back = credit_note.refund_amount.amount + credit_note.settled_outside_amount.amount
    to = accounting_currency(location)
    legs = _document_legs(credit_note, rate=rate)
    legs += [
        Leg(
            purpose=Purpose.RECEIVABLE,
            amount=-credit_note.amount_off_due.amount,
            currency=currency,
            customer_id=customer_id,
            lettering=credit_note.invoice_number,
        ),
        Leg(
            purpose=Purpose.CREDIT_HELD,
            amount=-credit_note.account_credit_amount.amount,
            currency=currency,
            customer_id=customer_id,
        ),
        Leg(
            purpose=Purpose.REFUNDS_PAYABLE,
            amount=-owed_back,
            currency=currency,
            customer_id=customer_id,
            accounting=-owed_back if currency == to else round_amount(-owed_back * rate),
        ),
    ]
    return prepare(
        head=EntryHead(
            location=location,
            journal=Journal.SALES,
            date=credit_note.issue_date,
            source=f"credit_note:{credit_note.pk}",
            label="",
            document_date=credit_note.issue_date,
            corrects=credit_note.invoice_number,
            customer_id=customer_id,
        ),
        legs=legs,
        rate=rate,
    )


def credit_note_write(*, credit_note: CreditNote, prepared: Prepared | None) -> None:
    """Write the entry :func:`credit_note_prepare` made for the numbered ``credit_note``,
    then post its refunds (these read the entry's open item, so they come after it)."""
    if prepared is not None:
        _numbered(
            prepared,
            number=credit_note.number,
            lettered=Purpose.REFUNDS_PAYABLE,
            label=_label(
                credit_note.invoice.location,
                noop("Credit note %(number)s on %(invoice)s, %(customer)s"),
                number=credit_note.number,
                invoice=credit_note.invoice_number,
                customer=credit_note.invoice.customer.billing_name,
            ),
        )
    if credit_note.refund_amount.amount or credit_note.settled_outside_amount.amount:
        for refund in credit_note.refunds.order_by("pk"):
            post_refund(refund=refund, credit_note=credit_note)


def post_refund(*, refund: Refund, credit_note: CreditNote | None = None) -> None:
    """Money paid back (or settled outside): from what a credit note owes back, or from the
    customer's account credit."""
    customer = refund.customer if credit_note is None else credit_note.invoice.customer
    location = customer.location
    amount = refund.amount.amount
    currency = str(refund.amount.currency)
    if credit_note is not None:
        owed = Leg(
            purpose=Purpose.REFUNDS_PAYABLE,
            amount=amount,
            currency=currency,
            customer_id=customer.pk,
            lettering=credit_note.number,
        )
        document, document_date = credit_note.number, credit_note.issue_date
    else:
        owed = Leg(
            purpose=Purpose.CREDIT_HELD, amount=amount, currency=currency, customer_id=customer.pk
        )
        document, document_date = refund.reference or f"R{refund.pk}", None
    settled = refund.kind == Refund.Kind.SETTLED_OUTSIDE
    date = timezone.localtime(refund.created_at).date() if refund.created_at else None
    date = date or timezone.localdate()
    post(
        head=EntryHead(
            location=location,
            journal=Journal.BANK,
            date=date,
            source=f"refund:{refund.pk}",
            label=_label(
                location,
                noop("Account credit settled outside, %(customer)s")
                if settled
                else noop("Refund to %(customer)s"),
                customer=customer.billing_name,
            ),
            document_number=document,
            document_date=document_date,
            corrects=credit_note.invoice_number if credit_note is not None else "",
            customer_id=customer.pk,
        ),
        legs=[
            owed,
            Leg(
                purpose=Purpose.SETTLED_OUTSIDE if settled else Purpose.BANK,
                amount=-amount,
                currency=currency,
                balances=True,
            ),
        ],
        rate=rate_on(currency=currency, to=accounting_currency(location), date=date),
    )


@transaction.atomic
def period_close(
    *,
    location: Location,
    start: datetime.date,
    end: datetime.date,
    actor: Any,
) -> ClosedPeriod:
    """Close ``start``..``end`` of the location's books: nothing more is posted in it.

    Refused with ``InvalidPeriod`` when the dates are reversed, the period overlaps one
    already closed, or it ends after today (what has not happened yet cannot be closed).
    The location's row lock orders two closings of one location.
    """
    lock_rows(Location.objects.filter(pk=location.pk)).first()
    if end < start:
        raise InvalidPeriod(_("The period ends before it starts."))
    if end >= timezone.localdate():
        raise InvalidPeriod(_("Only a period that has ended can be closed."))
    if ClosedPeriod.objects.filter(location=location, start__lte=end, end__gte=start).exists():
        raise InvalidPeriod(_("This period overlaps a period already closed."))
    period = ClosedPeriod(location=location, start=start, end=end, closed_by=actor)
    period.full_clean()
    period.save()
    return period


def journal_build() -> int:
    """Post what was issued, paid and refunded before the books existed, oldest first, each
    event in its own transaction; events already posted are skipped, so running it twice
    posts nothing the second time. Returns the number of events posted."""
    posted = set(JournalEntry.objects.values_list("source", flat=True))
    events: list[tuple] = []
    for invoice in Invoice.objects.exclude(state=Invoice.State.DRAFT).only("pk", "issued_at"):
        events.append((invoice.issued_at, 0, f"invoice:{invoice.pk}", invoice.pk))
    for payment in Payment.objects.only("pk", "method", "created_at"):
        kind = "credit_applied" if payment.method == Payment.Method.ACCOUNT_CREDIT else "payment"
        events.append((payment.created_at, 1, f"{kind}:{payment.pk}", payment.pk))
    for note in CreditNote.objects.only("pk", "created_at"):
        events.append((note.created_at, 2, f"credit_note:{note.pk}", note.pk))
    for refund in Refund.objects.filter(credit_note__isnull=True).only("pk", "created_at"):
        events.append((refund.created_at, 3, f"refund:{refund.pk}", refund.pk))
    count = 0
    for _when, _order, source, pk in sorted(events, key=lambda e: (e[0], e[1], e[3])):
        if source in posted:
            continue
        with transaction.atomic():
            kind = source.split(":")[0]
            if kind == "invoice":
                invoice = Invoice.objects.select_related("location", "customer").get(pk=pk)
                post_invoice(invoice=invoice, with_credit=False)
            elif kind in ("payment", "credit_applied"):
                post_payment(payment=Payment.objects.get(pk=pk))
            elif kind == "credit_note":
                post_credit_note(credit_note=CreditNote.objects.get(pk=pk))
            else:
                post_refund(refund=Refund.objects.get(pk=pk))
        count += 1
    return count
