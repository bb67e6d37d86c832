"""Recording payments: by money received or from account credit, each reference and each
submission once, never more than is due.
"""

import datetime
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.errors import CurrencyMismatch
from coworking.events import EventType, announce
from coworking.models import LedgerEntry
from coworking.money import in_whole_cents
from coworking.services import ledger_post
from invoicing.errors import (
    DuplicatePaymentReference,
    InvalidPayment,
    InvoiceNotPayable,
    PaymentAlreadyRecorded,
    PaymentExceedsAmountDue,
    PaymentExceedsAvailableCredit,
)
from invoicing.models import Invoice, Payment
from invoicing.selectors import available_credit
from invoicing.services.locks import invoice_lock, lock_customer_of


def settle(*, invoice: Invoice, amount: Money) -> None:
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
    if amount.amount <= 0 or not in_whole_cents(amount.amount):
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
        lock_customer_of(invoice_id=invoice.pk)
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
            received_on = received_on or timezone.localdate()
            payment = Payment.objects.create(
                invoice=invoice,
                amount=amount,
                method=method,
                received_on=received_on,
                ledger_entry=None
                if from_credit
                else ledger_post(
                    customer_id=invoice.customer_id,
                    kind=LedgerEntry.Kind.PAYMENT,
                    amount=-amount,
                    description=_("Payment for %(number)s") % {"number": invoice.number},
                    document_number=invoice.number,
                    document_date=received_on,
                ),
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
    settle(invoice=invoice, amount=amount)
    announce(type=EventType.PAYMENT_RECORDED, instance=payment)
    return payment
