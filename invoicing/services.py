"""Writes of invoicing: drafting, issuing and paying invoices.

Every function is one transaction; the state it depends on is re-read under a row lock,
and a refusal raises a typed error (``invoicing.errors``) before anything is written.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.errors import CurrencyMismatch
from coworking.events import EventType, announce
from coworking.models import Customer, LedgerEntry
from coworking.money import money_sum, round_amount
from coworking.numbering import DocumentType, format_number, next_number
from coworking.services import ledger_post
from invoicing.calculations import line_amounts
from invoicing.errors import (
    InvalidInvoiceLine,
    InvalidPayment,
    InvoiceHasNoLines,
    InvoiceNotDraft,
    InvoiceNotFound,
    InvoiceNotPayable,
    PaymentExceedsAmountDue,
    PaymentExceedsAvailableCredit,
)
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.selectors import available_credit

DEFAULT_PAYMENT_TERM_DAYS = 14


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Money
    tax_rate: Decimal


def invoice_lock(*, invoice_id: int, related: Sequence[str] = ()) -> Invoice:
    """Lock one invoice row (not its related rows) for the rest of the transaction.

    ``related`` names foreign keys to fetch in the same query.
    """
    try:
        return (
            Invoice.objects.select_for_update(of=("self",))
            .select_related(*related)
            .get(pk=invoice_id)
        )
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise InvoiceNotFound() from None


def _decimal(value, *, field: str) -> Decimal:
    if isinstance(value, float):
        raise InvalidInvoiceLine(_("%(field)s must be a decimal, not a float.") % {"field": field})
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInvoiceLine(_("%(field)s is not a number.") % {"field": field}) from None
    if not result.is_finite():
        raise InvalidInvoiceLine(_("%(field)s is not a number.") % {"field": field})
    return result


def _build_lines(*, lines: Sequence[LineInput], currency: str) -> list[InvoiceLine]:
    if not lines:
        raise InvoiceHasNoLines()
    built = []
    for position, line in enumerate(lines, start=1):
        description = (line.description or "").strip()
        if not description:
            raise InvalidInvoiceLine(_("Line %(n)s has no description.") % {"n": position})
        quantity = _decimal(line.quantity, field=_("Quantity"))
        tax_rate = _decimal(line.tax_rate, field=_("Tax rate"))
        if not isinstance(line.unit_price, Money):
            raise InvalidInvoiceLine(
                _("Line %(n)s: the unit price must be Money.") % {"n": position}
            )
        if str(line.unit_price.currency) != currency:
            raise CurrencyMismatch(
                _("Line %(n)s is in %(line)s but the invoice is in %(invoice)s.")
                % {"n": position, "line": line.unit_price.currency, "invoice": currency}
            )
        if quantity <= 0:
            raise InvalidInvoiceLine(
                _("Line %(n)s: the quantity must be positive.") % {"n": position}
            )
        if line.unit_price.amount < 0:
            raise InvalidInvoiceLine(
                _("Line %(n)s: the unit price cannot be negative.") % {"n": position}
            )
        if not (0 <= tax_rate < 100):
            raise InvalidInvoiceLine(
                _("Line %(n)s: the tax rate must be between 0 and 100%%.") % {"n": position}
            )
        amounts = line_amounts(
            quantity=quantity, unit_price=line.unit_price.amount, tax_rate=tax_rate
        )
        built.append(
            InvoiceLine(
                position=position,
                description=description[:200],
                quantity=quantity,
                unit_price=Money(round_amount(line.unit_price.amount), currency),
                tax_rate=tax_rate,
                net=Money(amounts.net, currency),
                tax=Money(amounts.tax, currency),
            )
        )
    return built


@transaction.atomic
def invoice_create_draft(
    *, customer: Customer, lines: Sequence[LineInput], currency: str | None = None
) -> Invoice:
    """Create a draft invoice with its lines (amounts computed and rounded here).

    Raises ``InvoiceHasNoLines``, ``InvalidInvoiceLine`` or ``CurrencyMismatch``; on any of
    them nothing is written.
    """
    currency = currency or customer.location.default_currency
    built = _build_lines(lines=lines, currency=currency)
    invoice = Invoice(
        location=customer.location,
        customer=customer,
        currency=currency,
        net_total=Money(0, currency),
        tax_total=Money(0, currency),
        total=Money(0, currency),
        amount_paid=Money(0, currency),
        amount_credited=Money(0, currency),
    )
    invoice.full_clean(validate_unique=False, validate_constraints=False)
    invoice.save()
    for line in built:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    return invoice


@transaction.atomic
def invoice_issue(
    *,
    invoice: Invoice,
    issue_date: datetime.date | None = None,
    payment_term_days: int = DEFAULT_PAYMENT_TERM_DAYS,
) -> Invoice:
    """Number a draft from its location's series, freeze it and debit the customer.

    Account credit the customer holds in the invoice's currency is applied at once (an
    ``account_credit`` payment up to the total), so the amount due drops by it. Announces
    ``invoice.issued``. Raises ``InvoiceNotFound``, ``InvoiceNotDraft`` or
    ``InvoiceHasNoLines``.
    """
    # The customer lock serialises credit application for one customer.
    Customer.objects.select_for_update().filter(pk=invoice.customer_id).first()
    invoice = invoice_lock(invoice_id=invoice.pk)
    if invoice.state != Invoice.State.DRAFT:
        raise InvoiceNotDraft(_("Invoice %(number)s is already issued.") % {"number": invoice})
    lines = list(invoice.lines.all())
    if not lines:
        raise InvoiceHasNoLines()
    currency = invoice.currency
    issue_date = issue_date or timezone.localdate()
    invoice.net_total = money_sum((line.net for line in lines), currency=currency)
    invoice.tax_total = money_sum((line.tax for line in lines), currency=currency)
    invoice.total = invoice.net_total + invoice.tax_total
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + datetime.timedelta(days=payment_term_days)
    invoice.issued_at = timezone.now()
    invoice.state = Invoice.State.ISSUED
    location = invoice.location
    invoice.sequence_number = next_number(
        location_id=location.pk, document_type=DocumentType.INVOICE
    )
    invoice.number = format_number(
        prefix=location.invoice_prefix, year=issue_date.year, number=invoice.sequence_number
    )
    invoice.full_clean(validate_unique=False, validate_constraints=False)
    invoice.save()
    ledger_post(
        customer_id=invoice.customer_id,
        kind=LedgerEntry.Kind.INVOICE,
        amount=invoice.total,
        description=_("Invoice %(number)s") % {"number": invoice.number},
        invoice_id=invoice.pk,
    )
    credit = available_credit(customer=invoice.customer, currency=currency)
    if credit.amount > 0 and invoice.total.amount > 0:
        applied = min(credit, invoice.total)
        Payment.objects.create(
            invoice=invoice,
            amount=applied,
            method=Payment.Method.ACCOUNT_CREDIT,
            received_on=issue_date,
            reference=_("Account credit"),
        )
        _settle(invoice=invoice, amount=applied)
    announce(type=EventType.INVOICE_ISSUED, instance=invoice)
    return invoice


def _settle(*, invoice: Invoice, amount: Money) -> None:
    invoice.amount_paid = invoice.amount_paid + amount
    invoice.state = invoice.settled_state()
    invoice.save(update_fields=["amount_paid", "amount_paid_currency", "state"])


def payment_check(*, invoice: Invoice, amount: Money, method: str) -> None:
    """Raise the error ``payment_record`` would raise for this payment; write nothing.

    Forms call it for an early, friendly message; ``payment_record`` calls it again on the
    locked invoice (and, for account credit, the locked customer), which is the check that
    counts.
    """
    if not isinstance(amount, Money):
        raise InvalidPayment(_("The amount must be Money."))
    if method not in Payment.Method.values:
        raise InvalidPayment(_("Unknown payment method: %(method)s.") % {"method": method})
    if amount.amount <= 0 or round_amount(amount.amount) != amount.amount:
        raise InvalidPayment(_("The amount must be positive and in whole cents."))
    if invoice.state not in (Invoice.State.ISSUED, Invoice.State.PARTIALLY_PAID):
        raise InvoiceNotPayable(
            _("Invoice %(number)s is %(state)s; it cannot take a payment.")
            % {"number": invoice, "state": invoice.get_state_display().lower()}
        )
    if str(amount.currency) != invoice.currency:
        raise CurrencyMismatch(
            _("The payment is in %(payment)s but invoice %(number)s is in %(invoice)s.")
            % {"payment": amount.currency, "number": invoice.number, "invoice": invoice.currency}
        )
    if amount > invoice.amount_due:
        raise PaymentExceedsAmountDue(
            _("%(amount)s is more than the %(due)s due on invoice %(number)s.")
            % {"amount": amount, "due": invoice.amount_due, "number": invoice.number}
        )
    if method == Payment.Method.ACCOUNT_CREDIT:
        credit = available_credit(customer=invoice.customer, currency=invoice.currency)
        if amount > credit:
            raise PaymentExceedsAvailableCredit(
                _("%(amount)s is more than the %(credit)s of account credit available.")
                % {"amount": amount, "credit": credit}
            )


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount: Money,
    method: str = Payment.Method.BANK_TRANSFER,
    received_on: datetime.date | None = None,
    reference: str = "",
) -> Payment:
    """Record money received against an issued invoice, or apply account credit to it.

    Money received is credited to the customer's ledger. Account credit (``method``
    ``account_credit``) moves no value, so it posts no ledger entry; it is never more than
    the credit available in the invoice's currency, read under the customer's row lock, so
    two staff applying the same credit at once cannot spend it twice. The invoice moves to
    partially paid or paid; announces ``payment.recorded``. Raises ``InvoiceNotFound``,
    ``InvoiceNotPayable`` (draft, cancelled or already paid), ``CurrencyMismatch``,
    ``InvalidPayment``, ``PaymentExceedsAmountDue`` or ``PaymentExceedsAvailableCredit``;
    nothing is written then.
    """
    from_credit = method == Payment.Method.ACCOUNT_CREDIT
    if from_credit:
        # The customer lock first, as invoice_issue takes it: it serialises spending credit.
        _lock_customer_of(invoice_id=invoice.pk)
    invoice = invoice_lock(invoice_id=invoice.pk)
    payment_check(invoice=invoice, amount=amount, method=method)
    payment = Payment.objects.create(
        invoice=invoice,
        amount=amount,
        method=method,
        received_on=received_on or timezone.localdate(),
        reference=(reference or (_("Account credit") if from_credit else ""))[:100],
    )
    if not from_credit:
        ledger_post(
            customer_id=invoice.customer_id,
            kind=LedgerEntry.Kind.PAYMENT,
            amount=-amount,
            description=_("Payment for %(number)s") % {"number": invoice.number},
            invoice_id=invoice.pk,
            payment=payment,
        )
    _settle(invoice=invoice, amount=amount)
    announce(type=EventType.PAYMENT_RECORDED, instance=payment)
    return payment


def _lock_customer_of(*, invoice_id: int) -> None:
    customer_ids = Invoice.objects.filter(pk=invoice_id).values("customer_id")
    list(Customer.objects.select_for_update().filter(pk__in=customer_ids).values_list("pk"))


@transaction.atomic
def invoice_draft_set_lines(*, invoice: Invoice, lines: Sequence[LineInput]) -> Invoice:
    """Replace the lines of a draft (amounts recomputed). Raises ``InvoiceNotDraft``."""
    invoice = invoice_lock(invoice_id=invoice.pk)
    if invoice.state != Invoice.State.DRAFT:
        raise InvoiceNotDraft()
    built = _build_lines(lines=lines, currency=invoice.currency)
    invoice.lines.all().delete()
    for line in built:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    return invoice
