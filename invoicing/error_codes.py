"""The stable error codes of invoicing; see ``coworking.error_codes``."""

from enum import StrEnum


class InvoicingErrorCode(StrEnum):
    INVOICE_NOT_FOUND = "invoice_not_found"
    INVOICE_IS_DRAFT = "invoice_is_draft"
    INVOICE_NOT_DRAFT = "invoice_not_draft"
    INVOICE_HAS_NO_LINES = "invoice_has_no_lines"
    INVOICE_LINE_INVALID = "invoice_line_invalid"
    # A document level discount or charge (EN 16931 BG-20/BG-21) that cannot be written.
    ALLOWANCE_CHARGE_INVALID = "allowance_charge_invalid"
    INVOICE_NOT_PAYABLE = "invoice_not_payable"
    PAYMENT_INVALID = "payment_invalid"
    PAYMENT_EXCEEDS_AMOUNT_DUE = "payment_exceeds_amount_due"
    PAYMENT_EXCEEDS_AVAILABLE_CREDIT = "payment_exceeds_available_credit"
    # Issuing what an invoice must state (EN 16931, VAT Directive Art. 226).
    INVOICE_DATE_OUT_OF_ORDER = "invoice_date_out_of_order"
    REVERSE_CHARGE_NEEDS_VAT_ID = "reverse_charge_needs_vat_id"
    # A line's VAT that the rules (coworking.vat_rules) do not allow for its parties.
    VAT_NOT_ALLOWED = "vat_not_allowed"
    EXCHANGE_RATE_MISSING = "exchange_rate_missing"
    PARTY_DETAILS_MISSING = "party_details_missing"
    # A payment form submitted twice, or the same bank transfer typed in twice.
    PAYMENT_ALREADY_RECORDED = "payment_already_recorded"
    PAYMENT_REFERENCE_DUPLICATE = "payment_reference_duplicate"
