"""Typed errors of cancelling and crediting; stable codes are part of the API contract."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotAllowed, StateConflict
from credits.error_codes import CreditsErrorCode as Code
from invoicing.errors import InvoiceIsDraft, InvoiceNotFound

__all__ = [
    "CancelNotAllowed",
    "ConfirmationOutdated",
    "CreditExceedsLine",
    "CreditExceedsRate",
    "CreditLineNotOnInvoice",
    "CreditNotAllowed",
    "InvalidAllocation",
    "InvalidCancellation",
    "InvalidCreditNote",
    "InvalidRefund",
    "InvoiceAlreadyCancelled",
    "InvoiceIsDraft",
    "InvoiceNotFound",
    "InvoicePaid",
    "NothingLeftToCredit",
    "RefundExceedsCredit",
    "TaxRateNotOnInvoice",
]


class InvoiceAlreadyCancelled(StateConflict):
    code = Code.INVOICE_ALREADY_CANCELLED
    default_message = _("The invoice is already cancelled.")
    skip_reason = _("Already cancelled")


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


# --- Crediting part of an invoice -------------------------------------------------------------


class PartialCreditNotPossible(StateConflict):
    """The invoice has document level discounts or charges (EN 16931 BG-20/BG-21): which
    lines they belong to is not stated, so no part of it is credited; it is cancelled (and
    issued again corrected) instead."""

    code = Code.PARTIAL_CREDIT_NOT_POSSIBLE
    default_message = _(
        "This invoice has a discount or charge on the whole invoice: cancel it and issue a "
        "corrected invoice instead of crediting part of it."
    )
    skip_reason = _("discount or charge on the whole invoice")


class NothingLeftToCredit(StateConflict):
    """The invoice, or the line asked for, is already credited in full."""

    code = Code.NOTHING_LEFT_TO_CREDIT
    default_message = _("Nothing is left to credit on this invoice.")
    skip_reason = _("nothing left to credit")


class ConfirmationOutdated(StateConflict):
    """The invoice changed after a confirmation page was computed from it (a payment, a
    credit note, a cancellation meanwhile, or a double submit): issuing now would not issue
    what the page showed. ``changes`` says what differs, figure by figure."""

    code = Code.CONFIRMATION_OUTDATED
    default_message = _(
        "The invoice changed since this confirmation was shown; nothing was issued. Check it again."
    )

    def __init__(self, message=None, *, changes: list[str] | None = None):
        super().__init__(message)
        self.changes = changes or []


class CreditNotAllowed(NotAllowed):
    code = Code.CREDIT_NOT_ALLOWED
    default_message = _("You are not allowed to issue credit notes.")


class InvalidCreditNote(InvalidInput):
    """A malformed request: no lines and no amount, a zero or negative quantity, a line
    listed twice, an unknown reason code, an amount not in whole cents..."""

    code = Code.CREDIT_NOTE_INVALID
    default_message = _("The credit note request is not valid.")


class CreditLineNotOnInvoice(InvalidInput):
    code = Code.CREDIT_LINE_NOT_ON_INVOICE
    default_message = _("That line is not a line of this invoice.")


class TaxRateNotOnInvoice(InvalidInput):
    code = Code.TAX_RATE_NOT_ON_INVOICE
    default_message = _("An amount can only be credited at a tax rate of the invoice.")


class CreditExceedsLine(InvalidInput):
    code = Code.CREDIT_EXCEEDS_LINE
    default_message = _("That is more than is left to credit on the line.")


class CreditExceedsRate(InvalidInput):
    code = Code.CREDIT_EXCEEDS_RATE
    default_message = _("That is more than is left to credit at this tax rate.")


class InvalidAllocation(InvalidInput):
    """Refund and settled-outside parts that are negative, not in the invoice's currency, or
    more than the credit beyond what was due."""

    code = Code.CREDIT_ALLOCATION_INVALID
    default_message = _(
        "The refund and settled-outside amounts cannot exceed the credit beyond what is due."
    )


class RefundExceedsCredit(InvalidInput):
    code = Code.REFUND_EXCEEDS_AVAILABLE_CREDIT
    default_message = _("The customer does not hold that much account credit.")


class InvalidRefund(InvalidInput):
    code = Code.REFUND_INVALID
    default_message = _("The refund is not valid.")
