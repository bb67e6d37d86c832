"""Typed errors of invoicing; see ``coworking.errors`` for how surfaces report them."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotFound, StateConflict


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"
    default_message = _("No such invoice.")
    skip_reason = _("no longer exists")


class InvoiceIsDraft(StateConflict):
    """A draft has no number, no PDF and nothing to credit: it is deleted, not cancelled."""

    code = "invoice_is_draft"
    default_message = _("A draft invoice cannot be cancelled: delete the draft instead.")
    skip_reason = _("draft: delete it instead of cancelling")


class InvoiceNotDraft(StateConflict):
    code = "invoice_not_draft"
    default_message = _("Only a draft invoice can be issued or edited.")


class InvoiceHasNoLines(InvalidInput):
    code = "invoice_has_no_lines"
    default_message = _("An invoice needs at least one line.")


class InvalidInvoiceLine(InvalidInput):
    code = "invoice_line_invalid"
    default_message = _("An invoice line is not valid.")


class InvoiceNotPayable(StateConflict):
    code = "invoice_not_payable"
    default_message = _("Payments can only be recorded against issued, unpaid invoices.")


class InvalidPayment(InvalidInput):
    code = "payment_invalid"
    default_message = _("The payment is not valid.")


class PaymentExceedsAmountDue(InvalidInput):
    code = "payment_exceeds_amount_due"
    default_message = _("The payment is larger than the amount due.")


class PaymentExceedsAvailableCredit(InvalidInput):
    code = "payment_exceeds_available_credit"
    default_message = _("The customer does not hold that much account credit.")
