"""PDFs of credit notes and invoices: one shared layout, rendered by WeasyPrint.

What the rendering guarantees:

- **Offline.** The templates (``templates/documents/``) load one print stylesheet and the
  DejaVu fonts shipped in ``static/``; the URL fetcher serves files under ``static/`` and
  refuses every other URL (``http(s)``, ``data:``, files elsewhere), which stops the render
  with ``PdfRenderError`` rather than quietly degrading the document.
- **Reproducible.** The same document gives the same bytes: the PDF creation and
  modification dates are the document's own issue date, the PDF file identifier is
  derived from its number, and nothing else in the output depends on the clock or on
  randomness (``tests/test_pdf.py`` proves it with SHA-256).
- **In the customer's language.** Texts go through Django's i18n with the customer's
  ``language`` (English when the project has no such translation); dates, numbers and
  amounts use the CLDR formats of that language (Babel), amounts in their currency.

Nothing here writes to the database or to storage: ``credits.documents`` stores the bytes.
"""

from __future__ import annotations

import datetime
import hashlib
import mimetypes
import threading
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from djmoney.money import Money
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from credits.models import CreditNote
from invoicing.errors import InvoiceIsDraft
from invoicing.models import Invoice

STATIC_DIR = Path(settings.BASE_DIR) / "static"
STYLESHEET = STATIC_DIR / "documents" / "print.css"
GENERATOR = "Coworking back-office"


class PdfRenderError(Exception):
    """The document could not be rendered (a refused resource, a template error...)."""


class _ResourceRefused(FatalURLFetchingError):
    """Fatal for WeasyPrint: stops the render instead of skipping the resource."""


class LocalOnlyURLFetcher(URLFetcher):
    """Serves files under ``static/`` and refuses every other URL."""

    def __init__(self, root: Path = STATIC_DIR):
        super().__init__(allowed_protocols=("file",))
        self.root = root.resolve()

    def fetch(self, url, headers=None):
        path = self.local_path(url)
        if path is None:
            raise _ResourceRefused(f"Refused to fetch {url!r}: documents only use local files.")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )

    def local_path(self, url: str) -> Path | None:
        """The file ``url`` names if it is an existing file under the root, else ``None``."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot close the string or the style element."""
    safe = " .,:;/()-_#"
    return '"' + "".join(c if c.isalnum() or c in safe else f"\\{ord(c):06x} " for c in text) + '"'


def _page_counter_css(label: str) -> str:
    """``"Page {page} of {pages}"`` → ``"Page " counter(page) " of " counter(pages)``."""
    parts, rest = [], label
    while rest:
        positions = [(rest.find(key), key) for key in ("{page}", "{pages}") if key in rest]
        if not positions:
            parts.append(css_string(rest))
            break
        index, key = min(positions)
        if index:
            parts.append(css_string(rest[:index]))
        parts.append(f"counter({key[1:-1]})")
        rest = rest[index + len(key) :]
    return " ".join(parts)


class Formatter:
    """Dates, numbers and money in the CLDR format of one language."""

    def __init__(self, language: str):
        self.locale = translation.to_locale(language)

    def date(self, value: datetime.date) -> str:
        return format_date(value, format="long", locale=self.locale)

    def money(self, value: Money | Decimal, currency: str | None = None) -> str:
        if isinstance(value, Money):
            value, currency = value.amount, str(value.currency)
        return format_currency(value, currency, locale=self.locale)

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value, format="#,##0.###", locale=self.locale)

    def percent(self, value: Decimal) -> str:
        return format_percent(value / 100, locale=self.locale, decimal_quantization=False)


@dataclass(frozen=True)
class _Line:
    description: str
    quantity: str
    unit_price: str
    tax_rate: str
    net: str
    tax: str
    gross: str


@dataclass(frozen=True)
class _TaxRow:
    rate: Decimal
    rate_label: str
    net: Decimal
    tax: Decimal
    net_label: str
    tax_label: str
    gross_label: str


def document_language(customer) -> str:
    """The customer's language when the project has it, else the default language."""
    available = {code for code, _name in settings.LANGUAGES}
    return customer.language if customer.language in available else settings.LANGUAGE_CODE


def _lines_and_tax_rows(lines, *, currency: str, fmt: Formatter):
    rendered, by_rate = [], defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")])
    for line in lines:
        net, tax = line.net.amount, line.tax.amount
        rendered.append(
            _Line(
                description=line.description,
                quantity=fmt.quantity(line.quantity),
                unit_price=fmt.money(line.unit_price),
                tax_rate=fmt.percent(line.tax_rate),
                net=fmt.money(net, currency),
                tax=fmt.money(tax, currency),
                gross=fmt.money(net + tax, currency),
            )
        )
        by_rate[line.tax_rate][0] += net
        by_rate[line.tax_rate][1] += tax
    tax_rows = [
        _TaxRow(
            rate=rate,
            rate_label=fmt.percent(rate),
            net=net,
            tax=tax,
            net_label=fmt.money(net, currency),
            tax_label=fmt.money(tax, currency),
            gross_label=fmt.money(net + tax, currency),
        )
        for rate, (net, tax) in sorted(by_rate.items(), reverse=True)
    ]
    return rendered, tax_rows


def _common_context(*, document, number: str, title: str, lines, fmt: Formatter, language: str):
    location, customer, currency = document.location, document.customer, document.currency
    rendered_lines, tax_rows = _lines_and_tax_rows(lines, currency=currency, fmt=fmt)
    return {
        "language": language,
        "title": title,
        "number": number,
        "date": fmt.date(document.issue_date),
        "metadata_date": document.issue_date.isoformat(),
        "generator": GENERATOR,
        "location": location,
        "customer": customer,
        "currency": currency,
        "lines": rendered_lines,
        "tax_rows": tax_rows,
        "net_total": fmt.money(document.net_total),
        "tax_total": fmt.money(document.tax_total),
        "total": fmt.money(document.total),
        "page_counter_css": _page_counter_css(_("Page {page} of {pages}")),
        "footer_css": css_string(f"{location.legal_name} · {title} {number}"),
    }


def credit_note_pdf_bytes(*, credit_note: CreditNote) -> bytes:
    """The PDF of ``credit_note`` as bytes; nothing is stored. Same note → same bytes.

    Raises ``PdfRenderError`` when the document cannot be rendered.
    """
    language = document_language(credit_note.customer)
    with translation.override(language):
        fmt = Formatter(language)
        context = _common_context(
            document=credit_note,
            number=credit_note.number,
            title=_("Credit note"),
            lines=credit_note.lines.all(),
            fmt=fmt,
            language=language,
        )
        # A note for the whole invoice cancels it; any other (a part, or what earlier notes
        # left) corrects it, and shows only the lines it credits.
        full = credit_note.total == -credit_note.invoice.total
        reference = (
            _("Cancels invoice %(number)s of %(date)s")
            if full
            else _("Corrects invoice %(number)s of %(date)s")
        )
        context["cancels"] = reference % {
            "number": credit_note.invoice_number,
            "date": fmt.date(credit_note.invoice_issue_date),
        }
        context["full"] = full
        context["reason"] = credit_note.reason
        html = render_to_string("documents/credit_note.html", context)
    return render_pdf(html=html, identifier=f"credit-note/{credit_note.number}")


def invoice_pdf_bytes(*, invoice: Invoice) -> bytes:
    """The PDF of an issued (or cancelled) invoice, rendered on the fly; nothing is stored.

    Shares the credit note's layout; a cancelled invoice names its credit note. Same
    invoice in the same state → same bytes. Raises ``InvoiceIsDraft`` for a draft and
    ``PdfRenderError`` when the document cannot be rendered.
    """
    if invoice.state == Invoice.State.DRAFT:
        raise InvoiceIsDraft(_("A draft invoice has no PDF: issue it first."))
    language = document_language(invoice.customer)
    with translation.override(language):
        fmt = Formatter(language)
        context = _common_context(
            document=invoice,
            number=invoice.number,
            title=_("Invoice"),
            lines=invoice.lines.all(),
            fmt=fmt,
            language=language,
        )
        context["due_date"] = fmt.date(invoice.due_date)
        context["amount_paid"] = fmt.money(invoice.amount_paid)
        context["amount_due"] = fmt.money(invoice.amount_due)
        credit_note = CreditNote.objects.filter(invoice=invoice, cancels_invoice=True)
        credit_note = credit_note.only("number", "issue_date")
        credit_note = credit_note.first()
        if invoice.state == Invoice.State.CANCELLED and credit_note is not None:
            context["cancelled_by"] = _("Cancelled by credit note %(number)s of %(date)s") % {
                "number": credit_note.number,
                "date": fmt.date(credit_note.issue_date),
            }
        html = render_to_string("documents/invoice.html", context)
    return render_pdf(html=html, identifier=f"invoice/{invoice.number}")


_render_cache = threading.local()


def _stylesheet(fetcher: LocalOnlyURLFetcher) -> tuple[CSS, FontConfiguration]:
    """The parsed print stylesheet and its loaded fonts, kept per thread: parsing them is
    a sizeable part of a small document's render, and they never change at run time."""
    if getattr(_render_cache, "stylesheet", None) is None:
        font_config = FontConfiguration()
        stylesheet = CSS(filename=STYLESHEET, url_fetcher=fetcher, font_config=font_config)
        _render_cache.stylesheet = (stylesheet, font_config)
    return _render_cache.stylesheet


def reset_render_cache() -> None:
    """Forget this thread's parsed stylesheet and fonts (the next render parses them again)."""
    _render_cache.stylesheet = None


def render_pdf(*, html: str, identifier: str) -> bytes:
    """Render an HTML document of ``templates/documents`` to PDF bytes, offline.

    ``identifier`` (e.g. ``credit-note/CN-2026-000007``) seeds the PDF file identifier;
    the dates come from the ``dcterms.created``/``dcterms.modified`` meta elements of the
    HTML. Raises ``PdfRenderError``.
    """
    fetcher = LocalOnlyURLFetcher()
    try:
        stylesheet, font_config = _stylesheet(fetcher)
        document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
        return document.write_pdf(
            stylesheets=[stylesheet],
            font_config=font_config,
            pdf_identifier=hashlib.md5(identifier.encode(), usedforsecurity=False).hexdigest(),
            uncompressed_pdf=False,
        )
    except FatalURLFetchingError as error:
        raise PdfRenderError(str(error)) from None
