"""The invoicing admin, one module per page: invoices (with their list filters), payments,
and the customer's account page extended with what invoicing knows."""

from invoicing.admin import customers, invoices, payments
from invoicing.admin.invoices import InvoiceAdmin

__all__ = ["InvoiceAdmin", "customers", "invoices", "payments"]
