"""The rules of cancelling and crediting: which invoices can be cancelled or credited, and
who may do it.

``credits.services`` checks them on the invoice it has locked, so they hold whatever surface
calls it; the admin reads the same rules to decide which rows get a "Cancel invoice" link,
which pages an "Issue credit note" button, and what a confirmation page will skip.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from coworking.errors import StateConflict
from credits.errors import (
    CancelNotAllowed,
    CreditNotAllowed,
    InvoiceAlreadyCancelled,
    InvoiceIsDraft,
    InvoicePaid,
    NothingLeftToCredit,
    PartialCreditNotPossible,
)
from invoicing.models import Channel, Invoice
from invoicing.selectors import has_document_allowances

CANCEL_PERMISSION = "invoicing.cancel_invoice"
CREDIT_PERMISSION = "invoicing.issue_credit_note"

# The states an invoice cannot be cancelled in, with the refusal each one gets.
_REFUSALS = {
    Invoice.State.DRAFT: (
        InvoiceIsDraft,
        _lazy("Invoice draft #%(id)s is a draft: delete the draft instead of cancelling it."),
    ),
    Invoice.State.CANCELLED: (
        InvoiceAlreadyCancelled,
        _lazy("Invoice %(number)s is already cancelled."),
    ),
}

# The same rule for querysets: ``invoices.filter(state__in=CANCELLABLE_STATES)``.
CANCELLABLE_STATES = tuple(state for state in Invoice.State.values if state not in _REFUSALS)


def cancel_refusal(*, invoice: Invoice) -> StateConflict | None:
    """Why ``invoice`` cannot be cancelled, as the error ``invoice_cancel`` raises (its
    ``skip_reason`` is what a bulk run reports), or ``None`` when it can be: issued,
    partially paid and paid invoices can; drafts, cancelled invoices and invoices of zero
    (nothing to credit) cannot."""
    refusal = _REFUSALS.get(invoice.state)
    if refusal is None:
        return _zero_total_refusal(invoice)
    error, message = refusal
    return error(message % {"id": invoice.pk, "number": invoice.number})


def _zero_total_refusal(invoice: Invoice) -> NothingLeftToCredit | None:
    if invoice.total is None or invoice.total.amount != 0:
        return None
    return NothingLeftToCredit(
        _("Invoice %(number)s has a total of zero: there is nothing to credit or cancel.")
        % {"number": invoice.number}
    )


def may_cancel(*, actor: AbstractBaseUser | None, channel: str, invoice: Invoice) -> None:
    """Allow ``actor`` to cancel ``invoice`` through ``channel``, or raise why not.

    - No actor: the system itself (a task, the command line without ``--user``).
    - A user with ``invoicing.cancel_invoice`` (staff), through any channel.
    - Through the API only: the customer's portal user, when the invoice's location lets
      members cancel (``Location.members_may_cancel``, off by default) and nothing has been
      paid on it; otherwise ``InvoicePaid``.
    - Anybody else: ``CancelNotAllowed``.

    ``invoice_cancel`` calls it with the invoice row locked and its location loaded, so a
    payment recorded meanwhile cannot slip past the "nothing paid" rule.
    """
    if actor is None:
        return
    if not actor.is_authenticated or not actor.is_active:
        raise CancelNotAllowed(_("You are not allowed to cancel invoices."))
    if actor.has_perm(CANCEL_PERMISSION):
        return
    customer_id = getattr(getattr(actor, "customer", None), "pk", None)
    if channel != Channel.API or customer_id is None or customer_id != invoice.customer_id:
        raise CancelNotAllowed(_("You are not allowed to cancel invoices."))
    if not invoice.location.members_may_cancel:
        raise CancelNotAllowed(
            _("Invoices of %(location)s can only be cancelled by its staff.")
            % {"location": invoice.location.name}
        )
    if invoice.amount_paid.amount > 0:
        raise InvoicePaid(
            _("Invoice %(number)s has payments; ask the staff of %(location)s to cancel it.")
            % {"number": invoice.number, "location": invoice.location.name}
        )


def credit_refusal(*, invoice: Invoice) -> StateConflict | None:
    """Why part of ``invoice`` cannot be credited, as the error ``credit_note_issue``
    raises, or ``None`` when it can: issued, partially paid and paid invoices can; a draft
    cannot (``invoice_is_draft``: edit it instead), nor a cancelled invoice, which is
    credited in full (``nothing_left_to_credit``), nor one with document level discounts
    or charges (``partial_credit_not_possible``: it is cancelled instead, see
    ``PartialCreditNotPossible``)."""
    if invoice.state == Invoice.State.DRAFT:
        return InvoiceIsDraft(_("A draft invoice cannot be credited: edit the draft instead."))
    if invoice.state == Invoice.State.CANCELLED:
        return NothingLeftToCredit(
            _("Invoice %(number)s is credited in full (cancelled): nothing is left to credit.")
            % {"number": invoice.number}
        )
    refusal = _zero_total_refusal(invoice)
    if refusal is None and has_document_allowances(invoice=invoice):
        return PartialCreditNotPossible(
            _(
                "Invoice %(number)s has a discount or charge on the whole invoice, which "
                "belongs to none of its lines: cancel it and issue a corrected invoice "
                "instead of crediting part of it."
            )
            % {"number": invoice.number}
        )
    return refusal


def may_credit(*, actor: AbstractBaseUser | None, channel: str, invoice: Invoice) -> None:
    """Allow ``actor`` to credit part of ``invoice``, or raise ``CreditNotAllowed``.

    No actor is the system itself; otherwise only users with
    ``invoicing.issue_credit_note`` (staff), through any channel. Members never: a partial
    credit is the operator's decision. (Cancelling has its own rule, ``may_cancel``.)
    """
    if actor is None:
        return
    if actor.is_authenticated and actor.is_active and actor.has_perm(CREDIT_PERMISSION):
        return
    raise CreditNotAllowed(_("You are not allowed to issue credit notes."))
