"""Typed errors of the cancel operation; stable codes are part of the API contract."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotAllowed, StateConflict
from invoicing.errors import InvoiceIsDraft, InvoiceNotFound

__all__ = [
    "CancelNotAllowed",
    "InvalidCancellation",
    "InvoiceAlreadyCancelled",
    "InvoiceIsDraft",
    "InvoiceNotFound",
    "InvoicePaid",
]


class InvoiceAlreadyCancelled(StateConflict):
    code = "invoice_already_cancelled"
    default_message = _("The invoice is already cancelled.")
    skip_reason = _("already cancelled")


class InvoicePaid(StateConflict):
    """For policies that only allow cancelling unpaid invoices (e.g. members in the portal)."""

    code = "invoice_paid"
    default_message = _("The invoice has payments; only staff can cancel it.")


class CancelNotAllowed(NotAllowed):
    code = "cancel_not_allowed"


class InvalidCancellation(InvalidInput):
    code = "cancellation_invalid"
    default_message = _("The cancellation request is not valid.")
