"""Who may cancel which invoice; surfaces ask here before calling ``invoice_cancel``.

The cancel service itself does not check permissions (it is also called by the system);
each surface does, and the API's rule is this one function.
"""

from django.utils.translation import gettext as _

from coworking.errors import NotAllowed
from credits.errors import InvoicePaid
from invoicing.models import Invoice


class CancelNotAllowed(NotAllowed):
    code = "cancel_not_allowed"


def may_cancel(*, user, invoice: Invoice) -> None:
    """Allow ``user`` to cancel ``invoice``, or raise why not.

    - Staff with ``invoicing.cancel_invoice`` may cancel any invoice.
    - The customer's portal user may cancel their own invoice only when its location lets
      members cancel (``Location.members_may_cancel``, off by default) and nothing has been
      paid on it; otherwise ``InvoicePaid``.
    - Anybody else: ``CancelNotAllowed``.

    Call it with the invoice row locked (``invoice_lock``) in the transaction that cancels,
    so a payment recorded meanwhile cannot slip past the "nothing paid" rule.
    """
    if not user.is_authenticated or not user.is_active:
        raise CancelNotAllowed(_("You are not allowed to cancel invoices."))
    if user.has_perm("invoicing.cancel_invoice"):
        return
    customer_id = getattr(getattr(user, "customer", None), "pk", None)
    if customer_id is None or customer_id != invoice.customer_id:
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
