"""Typed errors of the cancel operation; stable codes are part of the API contract."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotAllowed, StateConflict
from credits.error_codes import CreditsErrorCode as Code
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
    code = Code.INVOICE_ALREADY_CANCELLED
    default_message = _("The invoice is already cancelled.")
    skip_reason = _("already cancelled")


class InvoicePaid(StateConflict):
    """For policies that only allow cancelling unpaid invoices (e.g. members in the portal)."""

    code = Code.INVOICE_PAID
    default_message = _("The invoice has payments; only staff can cancel it.")


class CancelNotAllowed(NotAllowed):
    code = Code.CANCEL_NOT_ALLOWED
    default_message = _("You are not allowed to cancel invoices.")


class InvalidCancellation(InvalidInput):
    code = Code.CANCELLATION_INVALID
    default_message = _("The cancellation request is not valid.")

