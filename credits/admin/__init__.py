"""The credits admin, one module per workflow: credit notes and the cancellation trail
(``credit_notes``), refunds, background bulk cancellations and their progress page
(``bulk``), the cancel workflow (``cancel``), the partial credit note workflow
(``issue_credit_note``), and the invoice admin that combines them (``invoices``), registered in
place of invoicing's."""

from credits.admin import bulk, credit_notes, invoices, refunds

__all__ = ["bulk", "credit_notes", "invoices", "refunds"]
