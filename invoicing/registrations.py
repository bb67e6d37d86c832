"""What invoicing tells the customer ledger (``coworking.registry``) about the entries it
posts, an invoice's debit and a payment's credit, and about its documents."""

from django.utils.translation import gettext as _

from coworking.models import LedgerEntry
from coworking.registry import LedgerSource, register_documents, register_ledger_source


def _describe(entry: LedgerEntry) -> str:
    if entry.kind == LedgerEntry.Kind.INVOICE:
        return _("Invoice %(number)s") % {"number": entry.document_number}
    return _("Payment for %(number)s") % {"number": entry.document_number}


def _document(entry: LedgerEntry):
    if entry.kind == LedgerEntry.Kind.INVOICE:
        return entry.invoice, "admin:invoicing_invoice_change"
    return entry.payment, "admin:invoicing_payment_change"


def _about(entry: LedgerEntry) -> str:
    return entry.document_number if entry.kind == LedgerEntry.Kind.PAYMENT else ""


def _api(entry: LedgerEntry) -> dict:
    is_invoice = entry.kind == LedgerEntry.Kind.INVOICE
    return {
        "invoice": entry.invoice.pk if is_invoice else entry.payment.invoice_id,
        "invoice_number": entry.document_number,
        "payment": None if is_invoice else entry.payment.pk,
        "credit_note": None,
        "credit_note_number": None,
    }


def register() -> None:
    register_ledger_source(
        LedgerSource(
            kinds=(LedgerEntry.Kind.INVOICE, LedgerEntry.Kind.PAYMENT),
            related=("invoice", "payment"),
            describe=_describe,
            document=_document,
            number=lambda entry: entry.document_number,
            about=_about,
            api=_api,
        )
    )
    register_documents(
        of_location=lambda location: location.invoices.exclude(number="").exists(),
        of_customer=lambda customer: customer.invoices.exists(),
    )
