"""Typed errors of invoicing; see ``coworking.errors`` for how surfaces report them."""

from django.utils.translation import gettext_lazy as _

from coworking.errors import InvalidInput, NotFound, StateConflict
from invoicing.error_codes import InvoicingErrorCode as Code


class InvoiceNotFound(NotFound):
    code = Code.INVOICE_NOT_FOUND
    default_message = _("No such invoice.")
    skip_reason = _("No longer exists")


class InvoiceIsDraft(StateConflict):
    """A draft has no number, no PDF and nothing to credit: it is deleted, not cancelled."""

    code = Code.INVOICE_IS_DRAFT
    default_message = _("A draft invoice cannot be cancelled: delete the draft instead.")
    skip_reason = _("Draft: delete it instead of cancelling")


class InvoiceNotDraft(StateConflict):
    code = Code.INVOICE_NOT_DRAFT
    default_message = _("Only a draft invoice can be issued or edited.")


class InvoiceHasNoLines(InvalidInput):
    code = Code.INVOICE_HAS_NO_LINES
    default_message = _("An invoice needs at least one line.")


class InvalidInvoiceLine(InvalidInput):
    code = Code.INVOICE_LINE_INVALID
    default_message = _("An invoice line is not valid.")


class InvalidAllowanceCharge(InvalidInput):
    code = Code.ALLOWANCE_CHARGE_INVALID
    default_message = _("A discount or charge of the invoice is not valid.")


class VatNotAllowed(InvalidInvoiceLine):
    """A line's VAT category, rate or reason that the VAT rules do not allow for what it
    sells and to whom (``coworking.vat_rules``)."""

    code = Code.VAT_NOT_ALLOWED
    default_message = _("The VAT of an invoice line is not what the rules allow.")


class InvoiceNotPayable(StateConflict):
    code = Code.INVOICE_NOT_PAYABLE
    default_message = _("Payments can only be recorded against issued, unpaid invoices.")


class InvalidPayment(InvalidInput):
    code = Code.PAYMENT_INVALID
    default_message = _("The payment is not valid.")


class PaymentExceedsAmountDue(InvalidInput):
    code = Code.PAYMENT_EXCEEDS_AMOUNT_DUE
    default_message = _("The payment is larger than the amount due.")


class PaymentExceedsAvailableCredit(InvalidInput):
    code = Code.PAYMENT_EXCEEDS_AVAILABLE_CREDIT
    default_message = _("The customer does not hold that much account credit.")


class InvoiceDateOutOfOrder(InvalidInput):
    """A later number of a series never has an earlier date (French numbering rules)."""

    code = Code.INVOICE_DATE_OUT_OF_ORDER
    default_message = _("The issue date is before the date of the previous invoice number.")


class ReverseChargeWithoutVatId(InvalidInput):
    code = Code.REVERSE_CHARGE_NEEDS_VAT_ID
    default_message = _("A reverse-charge invoice needs the customer's VAT id.")


class ExchangeRateMissing(InvalidInput):
    code = Code.EXCHANGE_RATE_MISSING
    default_message = _("No exchange rate to the location's VAT currency for the issue date.")


class PartyDetailsMissing(InvalidInput):
    """The location or the customer lacks what every invoice must state."""

    code = Code.PARTY_DETAILS_MISSING
    default_message = _("The location or the customer lacks details every invoice states.")


class PaymentAlreadyRecorded(StateConflict):
    """The form (its one-time token) that asked for this payment was already recorded."""

    code = Code.PAYMENT_ALREADY_RECORDED
    default_message = _("This payment was already recorded; nothing was recorded again.")


class DuplicatePaymentReference(StateConflict):
    """The invoice already has a payment with this bank reference: most likely the same
    transfer entered twice, so staff must confirm it is another one."""

    code = Code.PAYMENT_REFERENCE_DUPLICATE
    default_message = _("The invoice already has a payment with this reference.")
