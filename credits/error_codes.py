"""The stable error codes of credits; see ``coworking.error_codes``."""

from enum import StrEnum


class CreditsErrorCode(StrEnum):
    INVOICE_ALREADY_CANCELLED = "invoice_already_cancelled"
    INVOICE_PAID = "invoice_paid"
    CANCEL_NOT_ALLOWED = "cancel_not_allowed"
    CANCELLATION_INVALID = "cancellation_invalid"
