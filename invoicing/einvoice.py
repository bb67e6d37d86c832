"""Invoices as e-invoices (EN 16931, type 380), in CII or UBL: see ``coworking.einvoice``."""

from django.utils import translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.documents.rendering import document_language
from coworking.einvoice import check_syntax
from coworking.einvoice.document import Document, TypeCode
from coworking.einvoice.issued import issued_fields
from coworking.einvoice.mentions import with_national_mentions
from coworking.einvoice.syntax import render
from invoicing.errors import InvoiceIsDraft
from invoicing.models import Invoice
from invoicing.payment_means import invoice_payment_means
from invoicing.selectors import credit_applied_at_issue


def invoice_document(
    *,
    invoice: Invoice,
    lines=None,
    allowance_charges=None,
    prepaid: Money | None = None,
    number: str | None = None,
) -> Document:
    """What an issued invoice states, as an EN 16931 document. Raises ``InvoiceIsDraft``.
    (``lines``, ``allowance_charges``, ``prepaid`` and ``number`` as they will be, for the
    check of an invoice being issued: the values are passed in, nothing is set on ``invoice``.)

    A cancelled invoice is still the invoice that was issued (its credit note is the
    document that cancels it). Payments are not part of it: the legal document does not
    change when the customer pays; account credit applied is stated as prepaid (BT-113).
    Its texts (exemption reasons, national mentions) are in the customer's language.
    """
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(
            _("Invoice draft #%(id)s has no e-invoice: issue it first.") % {"id": invoice.pk}
        )
    with translation.override(document_language(invoice.customer)):
        return with_national_mentions(
            _document(
                invoice,
                lines=lines,
                allowance_charges=allowance_charges,
                prepaid=prepaid,
                number=number,
            )
        )


def _document(invoice: Invoice, *, lines, allowance_charges, prepaid, number) -> Document:
    fields = issued_fields(
        invoice,
        lines=invoice.lines.all() if lines is None else lines,
        allowance_charges=(
            invoice.allowance_charges.all() if allowance_charges is None else allowance_charges
        ),
    )
    if number is not None:
        fields["number"] = number
    return Document(
        type_code=TypeCode.INVOICE,
        **fields,
        due_date=invoice.due_date,
        buyer_reference=invoice.buyer_reference,
        order_reference=invoice.order_reference,
        prepaid=(credit_applied_at_issue(invoice=invoice) if prepaid is None else prepaid.amount),
        payment_means=invoice_payment_means(invoice=invoice, number=number),
    )


def invoice_einvoice(*, invoice: Invoice, syntax: str) -> bytes:
    """The invoice's XML in ``syntax`` (``cii`` or ``ubl``). Raises ``UnknownSyntax`` or
    ``InvoiceIsDraft``."""
    check_syntax(syntax)
    return render(invoice_document(invoice=invoice), syntax=syntax)
