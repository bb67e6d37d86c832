"""The invoice's PDF, and the parts every invoice-like document shows (parties, lines, taxes).

An invoice's PDF shows it **as issued**: only what is frozen at issue goes in (number,
dates, parties, lines, totals, and the account credit applied when it was issued), never
its later payments or its cancellation. So it is rendered once after issue, stored, and
re-rendering it at any later time gives the same bytes; the invoice's state lives in the
admin and the API, and a cancellation is a document of its own (the credit note).

``document_context`` is shared with the credit note's PDF (``credits.pdf``): the lines and
the totals per tax rate (``invoicing.calculations.totals_by_rate``, the one grouping).
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from coworking.documents.rendering import (
    GENERATOR,
    Formatter,
    css_string,
    document_language,
    page_counter_css,
    render_pdf,
)
from invoicing.calculations import totals_by_rate
from invoicing.errors import InvoiceIsDraft
from invoicing.models import Invoice, Payment


@dataclass(frozen=True)
class LineRow:
    description: str
    quantity: str
    unit_price: str
    tax_rate: str
    net: str
    tax: str
    gross: str


@dataclass(frozen=True)
class TaxRow:
    rate_label: str
    net_label: str
    tax_label: str
    gross_label: str


def document_context(*, document, title: str, fmt: Formatter) -> dict:
    """The context of ``templates/documents/base.html`` for any document with lines:
    parties, number and date, the formatted lines, and the totals per tax rate (highest
    rate first)."""
    location, customer, currency = document.location, document.customer, document.currency
    number, lines = document.number, list(document.lines.all())
    rows = [
        LineRow(
            description=line.description,
            quantity=fmt.quantity(line.quantity),
            unit_price=fmt.money(line.unit_price),
            tax_rate=fmt.percent(line.tax_rate),
            net=fmt.money(line.net),
            tax=fmt.money(line.tax),
            gross=fmt.money(line.gross),
        )
        for line in lines
    ]
    groups = totals_by_rate((line.tax_rate, line.net.amount, line.tax.amount) for line in lines)
    tax_rows = [
        TaxRow(
            rate_label=fmt.percent(group.rate),
            net_label=fmt.money(group.net, currency),
            tax_label=fmt.money(group.tax, currency),
            gross_label=fmt.money(group.gross, currency),
        )
        for group in reversed(groups)
    ]
    return {
        "language": translation.get_language(),
        "title": title,
        "number": number,
        "date": fmt.date(document.issue_date),
        "metadata_date": document.issue_date.isoformat(),
        "generator": GENERATOR,
        "location": location,
        "customer": customer,
        "currency": currency,
        "lines": rows,
        "tax_rows": tax_rows,
        "net_total": fmt.money(document.net_total),
        "tax_total": fmt.money(document.tax_total),
        "total": fmt.money(document.total),
        "page_counter_css": page_counter_css(_("Page {page} of {pages}")),
        "footer_css": css_string(f"{location.legal_name} · {title} {number}"),
    }


def document_pdf_bytes(
    *, document, title, template: str, extra_context: Callable[[Formatter], dict]
) -> bytes:
    """Render ``template`` for ``document`` in its customer's language: the shared context,
    plus ``extra_context(fmt)``, the document's own. ``title`` is translated then."""
    language = document_language(document.customer)
    with translation.override(language):
        fmt = Formatter(language)
        context = document_context(document=document, title=str(title), fmt=fmt)
        context.update(extra_context(fmt))
        html = render_to_string(template, context)
    return render_pdf(html=html, identifier=document.pdf_identifier)


def credit_applied_at_issue(invoice: Invoice) -> Decimal:
    """The account credit applied when the invoice was issued (``invoice_issue`` records it
    as ``account_credit`` payments, and only then): frozen, unlike the paid amount."""
    applied = invoice.payments.filter(method=Payment.Method.ACCOUNT_CREDIT).aggregate(
        total=Sum("amount")
    )["total"]
    return applied or Decimal("0.00")


def invoice_pdf_bytes(*, invoice: Invoice) -> bytes:
    """The PDF of an issued invoice as issued, as bytes; nothing is stored. Same invoice →
    same bytes, whatever happened to it since. Raises ``InvoiceIsDraft`` for a draft and
    ``PdfRenderError`` when the document cannot be rendered."""
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(_("A draft invoice has no PDF: issue it first."))
    credit, currency = credit_applied_at_issue(invoice), invoice.currency

    def extra_context(fmt: Formatter) -> dict:
        return {
            "due_date": fmt.date(invoice.due_date),
            "credit_applied": fmt.money(-credit, currency) if credit else "",
            "amount_due": fmt.money(invoice.total.amount - credit, currency),
        }

    return document_pdf_bytes(
        document=invoice,
        title=_lazy("Invoice"),
        template="documents/invoice.html",
        extra_context=extra_context,
    )
