"""Writes of invoicing: drafting, issuing and paying invoices.

Every function is one transaction; the state it depends on is re-read under a row lock,
and a refusal raises a typed error (``invoicing.errors``) before anything is written.
"""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.einvoice import parties
from coworking.errors import CurrencyMismatch
from coworking.events import EventType, announce
from coworking.locking import lock_rows
from coworking.models import Customer, LedgerEntry, Location
from coworking.money import money_sum, round_amount
from coworking.numbering import DocumentType, format_number, next_number
from coworking.selectors import exchange_rate_on
from coworking.services import ledger_post
from coworking.vat import (
    DEFAULT_REASONS,
    EXEMPTION_REASON_CODES,
    EXEMPTION_REASON_MAX_LENGTH,
    NEEDS_REASON,
    VatCategory,
    category_rule_error,
)
from invoicing.calculations import line_amounts
from invoicing.documents import queue_invoice_pdf
from invoicing.errors import (
    DuplicatePaymentReference,
    ExchangeRateMissing,
    InvalidInvoiceLine,
    InvalidPayment,
    InvoiceDateOutOfOrder,
    InvoiceHasNoLines,
    InvoiceNotDraft,
    InvoiceNotFound,
    InvoiceNotPayable,
    PartyDetailsMissing,
    PaymentAlreadyRecorded,
    PaymentExceedsAmountDue,
    PaymentExceedsAvailableCredit,
    ReverseChargeWithoutVatId,
)
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.selectors import available_credit

DEFAULT_PAYMENT_TERM_DAYS = 14
REFERENCE_MAX_LENGTH = 100


@dataclass(frozen=True)
class LineInput:
    """One line to bill. ``vat_category`` defaults to standard rated (S) above 0 % and
    zero rated (Z) at 0 %; reverse charge (AE) and outside scope (O) get their standard
    exemption wording when none is given; an exempt line (E) needs its reason. A
    service billed per period gives both ends of it."""

    description: str
    quantity: Decimal
    unit_price: Money
    tax_rate: Decimal
    vat_category: str | None = None
    vat_exemption_reason: str = ""
    vat_exemption_reason_code: str = ""
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None


def invoice_lock(*, invoice_id: int, related: Sequence[str] = ()) -> Invoice:
    """Lock one invoice row (not its related rows) for the rest of the transaction.

    ``related`` names foreign keys to fetch in the same query.
    """
    try:
        return lock_rows(Invoice.objects.select_related(*related)).get(pk=invoice_id)
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
                **_vat_fields(line, position=position, tax_rate=tax_rate),
            )
        )
    _check_categories_together(built)
    return built


def _set_totals(*, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """Net, tax and total of ``invoice`` as the plain sums of its rounded lines."""
    invoice.net_total = money_sum((line.net for line in lines), currency=invoice.currency)
    invoice.tax_total = money_sum((line.tax for line in lines), currency=invoice.currency)
    invoice.total = invoice.net_total + invoice.tax_total


def _vat_fields(line: LineInput, *, position: int, tax_rate: Decimal) -> dict:
    """The line's VAT category, exemption reason and service period, checked."""
    category = line.vat_category or (
        VatCategory.STANDARD if tax_rate > 0 else VatCategory.ZERO_RATED
    )
    reason = (line.vat_exemption_reason or "").strip()
    code = (line.vat_exemption_reason_code or "").strip()
    if category in DEFAULT_REASONS:  # one code fits them all; a text if none is given
        default_code, default_text = DEFAULT_REASONS[category]
        code, reason = code or default_code, reason or default_text
    problem = category_rule_error(category=category, rate=tax_rate, reason=reason)
    if problem is None and code and category not in NEEDS_REASON:
        problem = _("a reason code is only for exempt, reverse-charge or outside-scope lines")
    if problem is None and code and code not in dict(EXEMPTION_REASON_CODES):
        problem = _("unknown exemption reason code %(code)s") % {"code": code}
    if problem is None and len(reason) > EXEMPTION_REASON_MAX_LENGTH:
        problem = _("the exemption reason is longer than %(max)s characters") % {
            "max": EXEMPTION_REASON_MAX_LENGTH
        }
    start, end = line.period_start, line.period_end
    if problem is None and (start is None) != (end is None):
        problem = _("a service period needs both its first and its last day")
    if problem is None and start is not None and end < start:
        problem = _("the service period ends before it starts")
    if problem is not None:
        raise InvalidInvoiceLine(
            _("Line %(n)s: %(problem)s.") % {"n": position, "problem": problem}
        )
    return {
        "vat_category": category,
        "vat_exemption_reason": reason,
        "vat_exemption_reason_code": code,
        "period_start": start,
        "period_end": end,
    }


def _check_categories_together(lines: Sequence[InvoiceLine]) -> None:
    """Rules across lines (EN 16931 states one exemption reason per category, BR-O-11..14
    keep outside-scope lines on their own document)."""
    categories = {line.vat_category for line in lines}
    if VatCategory.OUTSIDE_SCOPE in categories and len(categories) > 1:
        raise InvalidInvoiceLine(_("Lines outside the scope of VAT go on an invoice of their own."))
    for category in categories & set(NEEDS_REASON):
        reasons = {
            (line.vat_exemption_reason, line.vat_exemption_reason_code)
            for line in lines
            if line.vat_category == category
        }
        if len(reasons) > 1:
            raise InvalidInvoiceLine(
                _(
                    "The lines that are “%(category)s” give different exemption reasons; an "
                    "invoice states one reason per category."
                )
                % {"category": VatCategory(category).label}
            )


def _clean_reference(value: str, *, label: str) -> str:
    value = (value or "").strip()
    if len(value) > REFERENCE_MAX_LENGTH:
        raise InvalidInvoiceLine(
            _("The %(label)s is longer than %(max)s characters.")
            % {"label": label, "max": REFERENCE_MAX_LENGTH}
        )
    return value


@transaction.atomic
def invoice_create_draft(
    *,
    customer: Customer,
    lines: Sequence[LineInput],
    currency: str | None = None,
    buyer_reference: str = "",
    order_reference: str = "",
) -> Invoice:
    """Create a draft invoice with its lines (amounts computed and rounded here); the draft's
    totals are those of its lines, so lists and the API show what it will be issued at.

    Raises ``InvoiceHasNoLines``, ``InvalidInvoiceLine`` or ``CurrencyMismatch``; on any of
    them nothing is written.
    """
    currency = currency or customer.location.default_currency
    built = _build_lines(lines=lines, currency=currency)
    invoice = Invoice(
        location=customer.location,
        customer=customer,
        currency=currency,
        buyer_reference=_clean_reference(buyer_reference, label=_("buyer reference")),
        order_reference=_clean_reference(order_reference, label=_("purchase order")),
        amount_paid=Money(0, currency),
        amount_credited=Money(0, currency),
    )
    _set_totals(invoice=invoice, lines=built)
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
    exchange_rate: Decimal | None = None,
) -> Invoice:
    """Number a draft from its location's series, freeze it and debit the customer.

    The number's date is never before the previous number's (a series is in date order).
    An invoice in another currency than its location's VAT currency states its VAT in that
    currency too, at ``exchange_rate`` or else the latest ``ExchangeRate`` recorded on or
    before the issue date; the rate is kept on the invoice. The buyer reference is the
    draft's, else the customer's, else the invoice number (Peppol asks for one). The
    seller's and buyer's details are frozen on the invoice as they are now.
    Account credit the customer holds in the invoice's currency is applied at once (an
    ``account_credit`` payment up to the total), so the amount due drops by it. An invoice
    whose total is zero is issued ``paid``, with no ledger entry. Announces
    ``invoice.issued``.

    Raises ``InvoiceNotFound``, ``InvoiceNotDraft``, ``InvoiceHasNoLines``,
    ``PartyDetailsMissing`` (the location or customer lacks what the invoice must state),
    ``ReverseChargeWithoutVatId``, ``ExchangeRateMissing`` or ``InvoiceDateOutOfOrder``;
    nothing is written then and the number is not used.
    """
    # The customer lock serialises credit application for one customer.
    lock_rows(Customer.objects.filter(pk=invoice.customer_id)).first()
    invoice = invoice_lock(invoice_id=invoice.pk, related=("location", "customer"))
    if invoice.state != Invoice.State.DRAFT:
        raise InvoiceNotDraft(_("Invoice %(number)s is already issued.") % {"number": invoice})
    lines = list(invoice.lines.all())
    if not lines:
        raise InvoiceHasNoLines()
    location, customer = invoice.location, invoice.customer
    _check_parties(location=location, customer=customer, lines=lines)
    currency = invoice.currency
    issue_date = issue_date or timezone.localdate()
    _set_totals(invoice=invoice, lines=lines)
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + datetime.timedelta(days=payment_term_days)
    invoice.issued_at = timezone.now()
    # Nothing to pay (a free day pass): settled as issued, and nothing on the account.
    free = invoice.total.amount == 0
    invoice.state = Invoice.State.PAID if free else Invoice.State.ISSUED
    _set_vat_currency(invoice, location=location, exchange_rate=exchange_rate)
    invoice.sequence_number = next_number(
        location_id=location.pk, document_type=DocumentType.INVOICE
    )
    invoice.number = format_number(
        prefix=location.invoice_prefix, year=issue_date.year, number=invoice.sequence_number
    )
    _check_date_follows_previous(invoice)
    invoice.buyer_reference = invoice.buyer_reference or customer.buyer_reference or invoice.number
    invoice.seller = parties.snapshot(parties.seller(location))
    invoice.buyer = parties.snapshot(parties.buyer(customer))
    invoice.full_clean(validate_unique=False, validate_constraints=False)
    invoice.save()
    if not free:
        ledger_post(
            customer_id=invoice.customer_id,
            kind=LedgerEntry.Kind.INVOICE,
            amount=invoice.total,
            description=_("Invoice %(number)s") % {"number": invoice.number},
            invoice_id=invoice.pk,
        )
    credit = available_credit(customer=invoice.customer, currency=currency)
    if credit.amount > 0 and not free:
        applied = min(credit, invoice.total)
        Payment.objects.create(
            invoice=invoice,
            amount=applied,
            method=Payment.Method.ACCOUNT_CREDIT,
            received_on=issue_date,
        )
        _settle(invoice=invoice, amount=applied)
    announce(type=EventType.INVOICE_ISSUED, instance=invoice)
    invoice_id = invoice.pk
    transaction.on_commit(lambda: queue_invoice_pdf(invoice_id=invoice_id), robust=True)
    return invoice


def _check_parties(*, location: Location, customer: Customer, lines: Sequence[InvoiceLine]):
    missing = location.missing_for_documents()
    if missing:
        raise PartyDetailsMissing(
            _("Location %(location)s lacks what every invoice states: %(missing)s.")
            % {"location": location, "missing": ", ".join(missing)}
        )
    if not customer.country:
        raise PartyDetailsMissing(
            _("Customer %(customer)s has no country; every invoice states it.")
            % {"customer": customer}
        )
    categories = {line.vat_category for line in lines}
    if VatCategory.REVERSE_CHARGE in categories and not customer.tax_id.strip():
        raise ReverseChargeWithoutVatId(
            _(
                "Customer %(customer)s has no VAT id: a reverse-charge invoice must state it. "
                "Add it to the customer, or bill the lines with VAT."
            )
            % {"customer": customer}
        )
    if VatCategory.OUTSIDE_SCOPE in categories and not location.registration_id:
        raise PartyDetailsMissing(
            _(
                "An invoice outside the scope of VAT states no VAT id, so location "
                "%(location)s needs its legal registration id."
            )
            % {"location": location}
        )


def _set_vat_currency(invoice: Invoice, *, location: Location, exchange_rate) -> None:
    invoice.vat_currency = location.vat_currency
    if invoice.vat_currency == invoice.currency:
        invoice.vat_exchange_rate = invoice.tax_total_vat_currency = None
        return
    rate = exchange_rate
    if rate is None:
        rate = exchange_rate_on(
            currency=invoice.currency, vat_currency=invoice.vat_currency, date=invoice.issue_date
        )
    if rate is None:
        raise ExchangeRateMissing(
            _(
                "Invoice in %(currency)s from a location that pays VAT in %(vat_currency)s: no "
                "%(currency)s→%(vat_currency)s exchange rate on or before %(date)s. Record one "
                "(Coworking → Exchange rates) and issue again."
            )
            % {
                "currency": invoice.currency,
                "vat_currency": invoice.vat_currency,
                "date": invoice.issue_date.isoformat(),
            }
        )
    rate = _decimal(rate, field=_("Exchange rate"))
    if rate <= 0:
        raise ExchangeRateMissing(_("The exchange rate must be positive."))
    invoice.vat_exchange_rate = rate
    invoice.tax_total_vat_currency = round_amount(invoice.tax_total.amount * rate)


def _check_date_follows_previous(invoice: Invoice) -> None:
    """Under the series' counter lock, compare with the previous number of the series (the
    database checks the same in a trigger; this is the friendly message)."""
    previous = (
        Invoice.objects.filter(
            location_id=invoice.location_id, sequence_number=invoice.sequence_number - 1
        )
        .values_list("number", "issue_date")
        .first()
    )
    if previous is not None and previous[1] > invoice.issue_date:
        raise InvoiceDateOutOfOrder(
            _(
                "Invoice date %(date)s is before %(previous_date)s, the date of %(previous)s, "
                "the previous number of this series: a later number cannot have an earlier "
                "date. Issue it on or after %(previous_date)s."
            )
            % {
                "date": invoice.issue_date.isoformat(),
                "previous": previous[0],
                "previous_date": previous[1].isoformat(),
            }
        )


def _settle(*, invoice: Invoice, amount: Money) -> None:
    invoice.amount_paid = invoice.amount_paid + amount
    invoice.state = invoice.settled_state()
    invoice.save(update_fields=["amount_paid", "amount_paid_currency", "state"])


def payment_check(
    *,
    invoice: Invoice,
    amount: Money,
    method: str,
    reference: str = "",
    confirm_same_reference: bool = False,
    submission_token: uuid.UUID | None = None,
) -> None:
    """Raise the error ``payment_record`` would raise for this payment; write nothing.

    Forms call it for an early, friendly message; ``payment_record`` calls it again on the
    locked invoice (and, for account credit, the locked customer), which is the check that
    counts.
    """
    if submission_token is not None:
        _check_not_recorded(submission_token)
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
    if not confirm_same_reference:
        _check_reference_unused(invoice=invoice, method=method, reference=reference)


def _reference_key(reference: str) -> str:
    """Bank references compare without spaces and case: "rf18 5390" is "RF185390"."""
    return "".join((reference or "").split()).casefold()


def _check_reference_unused(*, invoice: Invoice, method: str, reference: str) -> None:
    """Refuse a second payment with the same reference on one invoice: most often the same
    transfer typed in twice, which the books cannot tell from two real transfers. Account
    credit moves no money and has no bank reference; an empty reference is not compared."""
    key = _reference_key(reference)
    if not key or method == Payment.Method.ACCOUNT_CREDIT:
        return
    earlier = (
        Payment.objects.filter(invoice_id=invoice.pk)
        .exclude(method=Payment.Method.ACCOUNT_CREDIT)
        .exclude(reference="")
        .order_by("pk")
    )
    for payment in earlier:
        if _reference_key(payment.reference) == key:
            raise DuplicatePaymentReference(
                _(
                    "Invoice %(number)s already has a payment with bank reference “%(reference)s” "
                    "(%(amount)s received on %(date)s). If this is another transfer with the same "
                    "reference, confirm it and record it again."
                )
                % {
                    "number": invoice.number,
                    "reference": payment.reference,
                    "amount": payment.amount,
                    "date": payment.received_on.isoformat(),
                }
            )


def _check_not_recorded(submission_token: uuid.UUID) -> None:
    payment = (
        Payment.objects.filter(submission_token=submission_token).select_related("invoice").first()
    )
    if payment is not None:
        raise _already_recorded(payment)


def _already_recorded(payment: Payment) -> PaymentAlreadyRecorded:
    return PaymentAlreadyRecorded(
        _(
            "This payment was already recorded (%(amount)s on %(number)s, reference "
            "“%(reference)s”, at %(time)s): the form was submitted twice; nothing was recorded "
            "again."
        )
        % {
            "amount": payment.amount,
            "number": payment.invoice.number,
            "reference": payment.reference,
            "time": timezone.localtime(payment.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        }
    )


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount: Money,
    method: str = Payment.Method.BANK_TRANSFER,
    received_on: datetime.date | None = None,
    reference: str = "",
    confirm_same_reference: bool = False,
    submission_token: uuid.UUID | None = None,
) -> Payment:
    """Record money received against an issued invoice, or apply account credit to it.

    Idempotent per ``submission_token`` (the one-time token of the form that asked): a
    second call with a token already used raises ``PaymentAlreadyRecorded``, whether it
    comes later or at the same time (the invoice lock orders the two, and the token is
    unique in the database). A payment whose bank ``reference`` (compared without spaces
    and case) the invoice already has is refused with ``DuplicatePaymentReference`` unless
    ``confirm_same_reference`` says staff checked it is another transfer.

    Money received is credited to the customer's ledger. Account credit (``method``
    ``account_credit``) moves no value, so it posts no ledger entry; it is never more than
    the credit available in the invoice's currency, read under the customer's row lock, so
    two staff applying the same credit at once cannot spend it twice. The invoice moves to
    partially paid or paid; announces ``payment.recorded``. Raises ``InvoiceNotFound``,
    ``InvoiceNotPayable`` (draft, cancelled or already paid), ``CurrencyMismatch``,
    ``InvalidPayment``, ``PaymentExceedsAmountDue``, ``PaymentExceedsAvailableCredit``,
    ``PaymentAlreadyRecorded`` or ``DuplicatePaymentReference``; nothing is written then.
    """
    from_credit = method == Payment.Method.ACCOUNT_CREDIT
    if from_credit:
        # The customer lock first, as invoice_issue takes it: it serialises spending credit.
        _lock_customer_of(invoice_id=invoice.pk)
    invoice = invoice_lock(invoice_id=invoice.pk)
    reference = (reference or "").strip()
    payment_check(
        invoice=invoice,
        amount=amount,
        method=method,
        reference=reference,
        confirm_same_reference=confirm_same_reference,
        submission_token=submission_token,
    )
    try:
        # The same token on another invoice is not ordered by this invoice's lock: the
        # unique index makes the later insert wait for the first and then fail.
        with transaction.atomic():
            payment = Payment.objects.create(
                invoice=invoice,
                amount=amount,
                method=method,
                received_on=received_on or timezone.localdate(),
                # An account-credit payment needs no reference: its method, shown in the
                # reader's language, says it (a stored text would stay in the language of
                # whoever posted it).
                reference=reference[:100],
                submission_token=submission_token,
            )
    except IntegrityError:
        recorded = Payment.objects.filter(submission_token=submission_token).select_related(
            "invoice"
        )
        if submission_token is None or not recorded.exists():
            raise
        raise _already_recorded(recorded.get()) from None
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
    list(lock_rows(Customer.objects.filter(pk__in=customer_ids)).values_list("pk"))


@transaction.atomic
def invoice_draft_set_lines(*, invoice: Invoice, lines: Sequence[LineInput]) -> Invoice:
    """Replace the lines of a draft (amounts and the draft's totals recomputed). Raises
    ``InvoiceNotDraft``."""
    invoice = invoice_lock(invoice_id=invoice.pk)
    if invoice.state != Invoice.State.DRAFT:
        raise InvoiceNotDraft()
    built = _build_lines(lines=lines, currency=invoice.currency)
    invoice.lines.all().delete()
    for line in built:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    _set_totals(invoice=invoice, lines=built)
    totals = ("net_total", "tax_total", "total")
    invoice.save(update_fields=[*totals, *(f"{name}_currency" for name in totals)])
    return invoice
