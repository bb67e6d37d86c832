"""The invoice's PDF, and the parts every invoice-like document shows (parties, lines, taxes).

An invoice's PDF shows it **as issued**: only what is frozen at issue goes in (number,
dates, parties, lines, totals, and the account credit applied when it was issued), never
its later payments or its cancellation. So it is rendered once after issue, stored, and
re-rendering it at any later time gives the same bytes; the invoice's state lives in the
admin and the API, and a cancellation is a document of its own (the credit note).

``document_context`` is shared with the credit note's PDF (``credits.pdf``): the lines and
the totals per VAT category and rate (the e-invoice's breakdown, so the PDF and its embedded
XML state the same figures).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from coworking.documents.rendering import Formatter, document_language, page_context, render_pdf
from coworking.einvoice.document import Document as EN16931Document
from coworking.einvoice.facturx import weasyprint_options
from coworking.einvoice.syntax import render
from coworking.vat import VatCategory
from invoicing.einvoice import invoice_document
from invoicing.errors import InvoiceIsDraft
from invoicing.models import Invoice
from invoicing.payment_means import payment_context


@dataclass(frozen=True)
class LineRow:
    description: str
    period: str
    vat_category: str
    quantity: str
    unit_price: str
    tax_rate: str
    net: str
    tax: str
    gross: str
    discount: str = ""


@dataclass(frozen=True)
class TaxRow:
    rate_label: str
    category_label: str
    net_label: str
    tax_label: str
    gross_label: str


@dataclass(frozen=True)
class VatMention:
    """What a category other than standard rate must say (VAT Directive Art. 226(11)/(11a)):
    its name and the exemption reason, e.g. "Reverse charge" and the article of the law."""

    category: str
    reason: str


def _period(line, fmt: Formatter) -> str:
    if line.period_start is None:
        return ""
    return _("Service period: %(start)s – %(end)s") % {
        "start": fmt.date(line.period_start),
        "end": fmt.date(line.period_end),
    }


def _discount(line, fmt: Formatter, *, currency: str) -> str:
    """The line's discount under its description: reason, percentage, amount taken off."""
    allowance = getattr(line, "allowance", None)
    if not allowance:
        return ""
    percent = getattr(line, "allowance_percent", None)
    return _("Discount: %(reason)s%(percent)s −%(amount)s") % {
        "reason": line.allowance_reason,
        "percent": f" ({fmt.percent(percent)})" if percent is not None else "",
        "amount": fmt.money(allowance, currency),
    }


def _allowance_rows(values: EN16931Document, fmt: Formatter, *, sign: int) -> list[dict]:
    """The totals block's document level discounts and charges (BG-20/BG-21), after the
    sum of the lines (BT-106): why, the VAT they belong to, the amount with the sign it
    moves the net by (a credit note's amounts are stated negative)."""
    if not values.allowance_charges:
        return []
    currency = values.currency
    rows = [
        {
            "label": _("Sum of lines"),
            "vat": "",
            "amount": fmt.money(sign * values.line_total, currency),
        }
    ]
    for row in values.allowance_charges:
        label = _("Charge: %(reason)s") if row.charge else _("Discount: %(reason)s")
        reason = row.reason + (f" ({fmt.percent(row.percent)})" if row.percent is not None else "")
        rows.append(
            {
                "label": label % {"reason": reason},
                "vat": _("VAT %(rate)s") % {"rate": fmt.percent(row.vat_rate)}
                if row.vat_category == VatCategory.STANDARD
                else str(VatCategory(row.vat_category).label),
                "amount": fmt.money(sign * row.signed, currency),
            }
        )
    return rows


def _vat_currency_total(document, fmt: Formatter) -> str:
    """The VAT in the accounting currency when the document is in another one (Art. 230;
    BT-111), with the exchange rate it was issued at."""
    if not document.vat_currency or document.vat_currency == document.currency:
        return ""
    if document.vat_exchange_rate is None or document.tax_total_vat_currency is None:
        return ""
    return _(
        "VAT total in %(currency)s: %(amount)s (exchange rate: 1 %(from)s = %(rate)s %(to)s)"
    ) % {
        "currency": document.vat_currency,
        "amount": fmt.money(document.tax_total_vat_currency, document.vat_currency),
        "from": document.currency,
        "rate": fmt.exchange_rate(document.vat_exchange_rate),
        "to": document.vat_currency,
    }


def _place(party, fmt: Formatter) -> str:
    if party is None:
        return ""
    town = f"{party.postcode} {party.city}".strip()
    return ", ".join(
        part for part in (*party.street_lines, town, fmt.country(party.country)) if part
    )


def document_context(
    *, document, values: EN16931Document, title: str, fmt: Formatter, lines=None
) -> dict:
    """The context of ``templates/documents/base.html`` for any document with lines: the
    parties as issued (``values``, the document's EN 16931 values; countries by their names
    in the document's language), number and date, the
    formatted lines with their service period and VAT category, the totals per VAT category
    and rate (the e-invoice's breakdown, highest rate first within a category) with the
    mentions the categories need, and the VAT in the accounting currency. ``lines`` are the
    document's own unless given (an unsaved preview has no lines in the database)."""
    currency, number = document.currency, document.number
    lines = list(document.lines.all()) if lines is None else lines
    sign = -1 if values.is_credit_note else 1  # the PDF states a credit note's amounts negative
    categories = dict(VatCategory.choices)
    rows = [
        LineRow(
            description=line.description,
            period=_period(line, fmt),
            vat_category=(
                str(categories[line.vat_category])
                if line.vat_category != VatCategory.STANDARD
                else ""
            ),
            quantity=fmt.quantity(line.quantity),
            unit_price=fmt.unit_price(line.unit_price),
            tax_rate=fmt.percent(line.tax_rate),
            net=fmt.money(line.net),
            tax=fmt.money(line.tax),
            gross=fmt.money(line.gross),
            discount=_discount(line, fmt, currency=currency),
        )
        for line in lines
    ]
    breakdown = values.vat_breakdown()
    tax_rows = [
        TaxRow(
            rate_label=fmt.percent(entry.rate),
            category_label=(
                str(categories[entry.category]) if entry.category != VatCategory.STANDARD else ""
            ),
            net_label=fmt.money(sign * entry.taxable, currency),
            tax_label=fmt.money(sign * entry.tax, currency),
            gross_label=fmt.money(sign * (entry.taxable + entry.tax), currency),
        )
        for entry in breakdown
    ]
    mentions = [
        VatMention(category=str(categories[entry.category]), reason=entry.exemption_reason)
        for entry in breakdown
        if entry.exemption_reason
    ]
    return {
        **page_context(
            fmt=fmt,
            title=title,
            number=number,
            date=document.issue_date,
            seller=values.seller,
            buyer=values.buyer,
            # A credit note is not a bill: its customer is not "billed to".
            buyer_label=_("Customer") if values.is_credit_note else _("Billed to"),
            # An unsaved preview has no number yet: no dangling space in the footer.
            footer=" · ".join([values.seller.name, f"{title} {number}".strip()]),
        ),
        "currency": currency,
        "lines": rows,
        "tax_rows": tax_rows,
        "vat_mentions": mentions,
        "vat_currency_total": _vat_currency_total(document, fmt),
        # The notes the XML carries with a subject code (a credit note's reason is printed
        # by its own template), and where the service is performed when it says so.
        "notes": [note.text for note in values.notes],
        "place_of_performance": _place(values.deliver_to, fmt),
        "allowance_rows": _allowance_rows(values, fmt, sign=sign),
        "net_total": fmt.money(document.net_total),
        "tax_total": fmt.money(document.tax_total),
        "total": fmt.money(document.total),
    }


def document_pdf_bytes(
    *,
    document,
    values: EN16931Document,
    title,
    template: str,
    extra_context: Callable[[Formatter], dict],
    lines=None,
    facturx: bool = True,
) -> bytes:
    """Render ``template`` for ``document`` in its customer's language: the shared context,
    plus ``extra_context(fmt)``, the document's own. ``title`` is translated then.

    ``values`` is the document as EN 16931 states it: the PDF prints its parties and VAT
    breakdown, and is a Factur-X carrying it as CII (PDF/A-3b, ``factur-x.xml``), the same
    XML the API serves, so the stored PDF is also the structured e-invoice. Without
    ``facturx`` (a preview, which has no number yet) it is a plain PDF."""
    language = document_language(document.customer)
    with translation.override(language):
        fmt = Formatter(language)
        context = document_context(
            document=document, values=values, title=str(title), fmt=fmt, lines=lines
        )
        context.update(extra_context(fmt))
        html = render_to_string(template, context)
    options = (
        weasyprint_options(cii=render(values, syntax="cii"), issue_date=document.issue_date)
        if facturx
        else {}
    )
    return render_pdf(html=html, identifier=document.pdf_identifier, **options)


def invoice_pdf_bytes(*, invoice: Invoice) -> bytes:
    """The PDF of an issued invoice as issued, as bytes; nothing is stored. Same invoice →
    same bytes, whatever happened to it since. Raises ``InvoiceIsDraft`` for a draft and
    ``PdfRenderError`` when the document cannot be rendered."""
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(_("A draft invoice has no PDF: issue it first."))
    values, currency = invoice_document(invoice=invoice), invoice.currency

    def extra_context(fmt: Formatter) -> dict:
        return {
            "due_date": fmt.date(invoice.due_date),
            "credit_applied": fmt.money(-values.prepaid, currency) if values.prepaid else "",
            "amount_due": fmt.money(values.amount_due, currency),
            **payment_context(invoice=invoice, values=values, fmt=fmt),
        }

    return document_pdf_bytes(
        document=invoice,
        title=_lazy("Invoice"),
        template="documents/invoice.html",
        values=values,
        extra_context=extra_context,
    )
