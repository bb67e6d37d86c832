"""The stable error codes of credits; see ``coworking.error_codes``."""

from enum import StrEnum


class CreditsErrorCode(StrEnum):
    INVOICE_ALREADY_CANCELLED = "invoice_already_cancelled"
    INVOICE_PAID = "invoice_paid"
    CANCEL_NOT_ALLOWED = "cancel_not_allowed"
    CANCELLATION_INVALID = "cancellation_invalid"
    # Crediting part of an invoice, and refunds of account credit.
    NOTHING_LEFT_TO_CREDIT = "nothing_left_to_credit"
    # An invoice with document level discounts or charges is cancelled, never credited in part.
    PARTIAL_CREDIT_NOT_POSSIBLE = "partial_credit_not_possible"
    # What a confirmation page showed no longer holds (a payment or a note meanwhile).
    CONFIRMATION_OUTDATED = "confirmation_outdated"
    CREDIT_NOT_ALLOWED = "credit_not_allowed"
    CREDIT_NOTE_INVALID = "credit_note_invalid"
    CREDIT_LINE_NOT_ON_INVOICE = "credit_line_not_on_invoice"
    TAX_RATE_NOT_ON_INVOICE = "tax_rate_not_on_invoice"
    CREDIT_EXCEEDS_LINE = "credit_exceeds_line"
    CREDIT_EXCEEDS_RATE = "credit_exceeds_rate"
    CREDIT_ALLOCATION_INVALID = "credit_allocation_invalid"
    REFUND_EXCEEDS_AVAILABLE_CREDIT = "refund_exceeds_available_credit"
    REFUND_INVALID = "refund_invalid"
