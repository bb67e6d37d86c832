"""The one PDF renderer: HTML of ``templates/documents/`` to PDF bytes, by WeasyPrint.

What it guarantees, for every kind of document:

- **Offline.** Documents load one print stylesheet and the DejaVu fonts shipped in
  ``static/``; the URL fetcher serves files under ``static/`` and refuses every other URL
  (``http(s)``, ``data:``, files elsewhere), which stops the render with ``PdfRenderError``
  rather than quietly degrading the document.
- **Reproducible.** The same document gives the same bytes: the PDF's dates come from the
  document (``dcterms.created``/``dcterms.modified`` meta elements), its file identifier is
  derived from the document's identifier, and nothing else depends on the clock or on
  randomness. The embedded fonts are subsets, made by HarfBuzz when the system has
  ``libharfbuzz-subset0`` and by fontTools otherwise; fontTools would stamp the current time
  into each subset, so the fonts keep their own timestamp here (``_keep_font_timestamps``).
  Both ways are deterministic, but their bytes differ from each other: the system check
  ``documents.W001`` warns on a machine without the HarfBuzz subsetter.
- **In the customer's language.** ``Formatter`` gives dates, numbers and money in the CLDR
  formats of a language (Babel); callers render their template under
  ``translation.override(document_language(customer))``.

``render_pdf`` passes WeasyPrint options through (``pdf_variant``, ``attachments``,
``xmp_metadata``), so an archival variant with an embedded XML invoice (Factur-X) goes
through the same renderer.
"""

from __future__ import annotations

import contextlib
import datetime
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.identifiers import registration_label
from coworking.l10n import cldr_locale, human_number
from coworking.money import format_money, format_unit_price

STATIC_DIR = Path(settings.BASE_DIR) / "static"
GENERATOR = "Coworking back-office"


class PdfRenderError(Exception):
    """The document could not be rendered (a refused resource, a template error...)."""


# The names WeasyPrint tries for HarfBuzz's subsetter (``weasyprint.text.ffi``).
HARFBUZZ_SUBSET_NAMES = (
    "libharfbuzz-subset-0",
    "harfbuzz-subset",
    "harfbuzz-subset-0.0",
    "libharfbuzz-subset.so.0",
    "libharfbuzz-subset.0.dylib",
    "libharfbuzz-subset-0.dll",
)


def harfbuzz_subsetter_available() -> bool:
    """Whether WeasyPrint subsets fonts with HarfBuzz (else with fontTools): whether the
    library loads, through cffi, under one of the names WeasyPrint tries. Asked without
    importing WeasyPrint, as the system checks do in every process."""
    import cffi

    ffi = cffi.FFI()
    for name in HARFBUZZ_SUBSET_NAMES:
        with contextlib.suppress(OSError):
            ffi.dlopen(name, ffi.RTLD_NOW)
            return True
    return False


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot close the string or the style element."""
    safe = " .,:;/()-_#"
    return '"' + "".join(c if c.isalnum() or c in safe else f"\\{ord(c):06x} " for c in text) + '"'


def page_counter_css(label: str) -> str:
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
    """Dates, numbers and money in the CLDR format of one language (``coworking.l10n``);
    amounts the project's one way (``coworking.money.format_money``)."""

    def __init__(self, language: str):
        self.language = language
        self.locale = cldr_locale(language)

    def date(self, value: datetime.date) -> str:
        return format_date(value, format="long", locale=self.locale)

    def money(self, value: Money | Decimal, currency: str | None = None) -> str:
        return format_money(value, currency, language=self.language)

    def unit_price(self, value: Money) -> str:
        """Every stored decimal of a unit price (``coworking.money.format_unit_price``)."""
        return format_unit_price(value, language=self.language)

    def quantity(self, value: Decimal) -> str:
        return human_number(value, language=self.language)

    def exchange_rate(self, value: Decimal) -> str:
        """Every significant digit of a stored rate (up to 8 decimals), none invented."""
        return human_number(value, language=self.language)

    def percent(self, value: Decimal) -> str:
        return human_number(value, language=self.language, percent=True)

    def country(self, code: str) -> str:
        """The country's name in the language (CLDR): ``DE`` → ``Germany``, ``Allemagne``."""
        return Locale.parse(self.locale).territories.get(code, code) if code else ""


def page_context(
    *, fmt: Formatter, title, number: str, date: datetime.date, seller, buyer, buyer_label, footer
) -> dict:
    """What the shared page template (``documents/base.html``) shows on every document, in
    the active language: title and number, date (and the PDF's metadata date), the parties
    with their countries' names, the page counter and the running footer."""
    return {
        "language": translation.get_language(),
        "title": title,
        "number": number,
        "date": fmt.date(date),
        "metadata_date": date.isoformat(),
        "generator": GENERATOR,
        "seller": seller,
        "seller_country": fmt.country(seller.country),
        "buyer": buyer,
        "buyer_country": fmt.country(buyer.country),
        "buyer_label": buyer_label,
        # A French seller's SIREN is in its legal mentions already.
        "seller_registration": registration_line(seller) if seller.country != "FR" else "",
        "buyer_registration": registration_line(buyer),
        "page_counter_css": page_counter_css(_("Page {page} of {pages}")),
        "footer_css": css_string(footer),
    }


def registration_line(party) -> str:
    """``KvK: 12345678``: a party's company register number with what its country calls
    it, or ``""``."""
    number = getattr(party, "registration_id", "")
    if not number:
        return ""
    label = registration_label(party.country, getattr(party, "registration_scheme", ""))
    return _("%(label)s: %(number)s") % {"label": label, "number": number}


def document_language(customer) -> str:
    """The one place that decides the language of a customer's documents (PDFs, e-mails):
    the customer's own when it has one, else its location's, else the default language."""
    available = {code for code, _name in settings.LANGUAGES}
    for language in (customer.language, customer.location.language):
        if language in available:
            return language
    return settings.LANGUAGE_CODE


def render_pdf(*, html: str, identifier: str, **options) -> bytes:
    """Render an HTML document of ``templates/documents`` to PDF bytes, offline.

    ``identifier`` (e.g. ``credit-note/CN-2026-000007``) seeds the PDF file identifier;
    the dates come from the ``dcterms.created``/``dcterms.modified`` meta elements of the
    HTML. ``options`` go to WeasyPrint's ``write_pdf`` (e.g. ``pdf_variant="pdf/a-3b"``,
    ``attachments``, ``xmp_metadata``: ``coworking.einvoice.facturx.weasyprint_options``).
    Raises ``PdfRenderError``. WeasyPrint is imported here, at the first render
    (``coworking.documents.engine``): a process that renders nothing starts without it.
    """
    from coworking.documents.engine import write_pdf

    return write_pdf(html=html, identifier=identifier, **options)


def merged_pdf(parts: list[bytes], *, numbered: Callable[[int], bytes]) -> bytes:
    """The PDFs ``parts`` as one document (the first part's metadata), each page overlaid
    with the same page of ``numbered(pages)``: a document of that many pages carrying only
    what must run across the parts (the page counter)."""
    import pypdf  # with the renderer's other imports: only where documents are rendered

    writer = pypdf.PdfWriter()
    for data in parts:
        writer.append(pypdf.PdfReader(io.BytesIO(data)))
    overlay = pypdf.PdfReader(io.BytesIO(numbered(len(writer.pages))))
    for page, numbers in zip(writer.pages, overlay.pages, strict=True):
        page.merge_page(numbers)
        page.compress_content_streams()  # merging wrote them out uncompressed
    metadata = pypdf.PdfReader(io.BytesIO(parts[0])).metadata
    if metadata:
        writer.add_metadata(dict(metadata))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
