"""Typed errors of cancelling and crediting; stable codes are part of the API contract."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotAllowed, StateConflict
from invoicing.errors import InvoiceIsDraft, InvoiceNotFound

__all__ = [
    "CancelNotAllowed",
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


# --- Crediting part of an invoice -------------------------------------------------------------


class NothingLeftToCredit(StateConflict):
    """The invoice, or the line asked for, is already credited in full."""

    code = "nothing_left_to_credit"
    default_message = _("Nothing is left to credit on this invoice.")
    skip_reason = _("nothing left to credit")


class CreditNotAllowed(NotAllowed):
    code = "credit_not_allowed"
    default_message = _("You are not allowed to issue credit notes.")


class InvalidCreditNote(InvalidInput):
    """A malformed request: no lines and no amount, a zero or negative quantity, a line
    listed twice, an unknown reason code, an amount not in whole cents..."""

    code = "credit_note_invalid"
    default_message = _("The credit note request is not valid.")


class CreditLineNotOnInvoice(InvalidInput):
    code = "credit_line_not_on_invoice"
    default_message = _("That line is not a line of this invoice.")


class TaxRateNotOnInvoice(InvalidInput):
    code = "tax_rate_not_on_invoice"
    default_message = _("An amount can only be credited at a tax rate of the invoice.")


class CreditExceedsLine(InvalidInput):
    code = "credit_exceeds_line"
    default_message = _("That is more than is left to credit on the line.")


class CreditExceedsRate(InvalidInput):
    code = "credit_exceeds_rate"
    default_message = _("That is more than is left to credit at this tax rate.")


class InvalidAllocation(InvalidInput):
    """Refund and settled-outside parts that are negative, not in the invoice's currency, or
    more than the credit beyond what was due."""

    code = "credit_allocation_invalid"
    default_message = _(
        "The refund and settled-outside amounts cannot exceed the credit beyond what is due."
    )


class RefundExceedsCredit(InvalidInput):
    code = "refund_exceeds_available_credit"
    default_message = _("The customer does not hold that much account credit.")


class InvalidRefund(InvalidInput):
    code = "refund_invalid"
    default_message = _("The refund is not valid.")
