"""The two rules of cancelling: which invoices can be cancelled, and who may cancel one.

``invoice_cancel`` checks both on the invoice it has locked, so they hold whatever surface
calls it; the admin reads the first to decide which rows get a "Cancel invoice" link and
what its confirmation page will skip.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from coworking.errors import StateConflict
from credits.errors import CancelNotAllowed, InvoiceAlreadyCancelled, InvoiceIsDraft, InvoicePaid
from invoicing.models import Channel, Invoice

CANCEL_PERMISSION = "invoicing.cancel_invoice"

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
    partially paid and paid invoices can; drafts and cancelled invoices cannot."""
    refusal = _REFUSALS.get(invoice.state)
    if refusal is None:
        return None
    error, message = refusal
    return error(message % {"id": invoice.pk, "number": invoice.number})


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
