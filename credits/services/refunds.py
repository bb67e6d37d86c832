"""Paying back account credit, and the refund or settlement outside a credit note sends
the customer: the ``Refund`` row and its ledger debit.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.events import InternalEventType, announce
from coworking.locking import lock_rows
from coworking.models import Customer, LedgerEntry
from coworking.money import in_whole_cents
from coworking.services import ledger_post
from credits.errors import InvalidRefund, RefundExceedsCredit
from credits.models import Refund
from invoicing.models import Channel
from invoicing.selectors import available_credit


def refund_write(
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
    if kind == Refund.Kind.REFUND:
        description = _("Refund of account credit")
    else:
        description = _("Account credit settled outside")
    if invoice is not None:
        description = f"{description} ({invoice.number})"
    entry = ledger_post(
        customer_id=customer_id,
        kind=LedgerEntry.Kind.REFUND
        if kind == Refund.Kind.REFUND
        else LedgerEntry.Kind.SETTLED_OUTSIDE,
        amount=amount,
        description=description,
        document_number=invoice.number if invoice is not None else "",
        document_date=timezone.localdate(),
    )
    refund = Refund.objects.create(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        credit_note=credit_note,
        reference=(reference or "")[:100],
        created_by=actor,
        channel=channel,
        ledger_entry=entry,
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
    if not isinstance(amount, Money) or amount.amount <= 0 or not in_whole_cents(amount.amount):
        raise InvalidRefund(_("The amount must be positive Money in whole cents."))
    customer_id = customer.pk if isinstance(customer, Customer) else customer
    customer = lock_rows(Customer.objects.all()).get(pk=customer_id)
    credit = available_credit(customer=customer, currency=str(amount.currency))
    if amount > credit:
        raise RefundExceedsCredit(
            _("%(customer)s holds %(credit)s of account credit; %(amount)s cannot be refunded.")
            % {"customer": customer, "credit": credit, "amount": amount}
        )
    refund = refund_write(
        customer_id=customer.pk,
        kind=kind,
        amount=amount,
        credit_note=None,
        invoice=None,
        reference=reference,
        actor=actor,
        channel=channel,
    )
    announce(type=InternalEventType.REFUND_RECORDED, instance=refund, actor=actor, channel=channel)
    return refund
