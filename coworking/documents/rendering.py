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
import gc
import hashlib
import io
import mimetypes
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pypdf
import weasyprint.pdf.fonts
from babel import Locale
from babel.dates import format_date
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from djmoney.money import Money
from fontTools.ttLib import TTFont
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from coworking.identifiers import registration_label
from coworking.l10n import cldr_locale, human_number
from coworking.money import format_money, format_unit_price

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


class _FontKeepingItsTimestamp(TTFont):
    """fontTools' font, saved with its own ``head.modified`` instead of the current time."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("recalcTimestamp", False)
        super().__init__(*args, **kwargs)


def _keep_font_timestamps() -> None:
    """Make WeasyPrint's fontTools subsetting (used without ``libharfbuzz-subset0``)
    deterministic: it opens fonts through ``weasyprint.pdf.fonts.TTFont``."""
    weasyprint.pdf.fonts.TTFont = _FontKeepingItsTimestamp


_keep_font_timestamps()


def harfbuzz_subsetter_available() -> bool:
    """Whether WeasyPrint subsets fonts with HarfBuzz (else with fontTools)."""
    return weasyprint.pdf.fonts.harfbuzz_subset is not None


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


@contextlib.contextmanager
def _cyclic_gc_paused():
    """A render allocates some hundred thousand short-lived objects, which makes Python's
    cyclic collector run many full passes over everything the process holds (Django,
    WeasyPrint, fonts): about a third of a long document's time (``docs/benchmarks.md``).
    Pause it for the render; what the render left behind is collected when it resumes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def render_pdf(*, html: str, identifier: str, **options) -> bytes:
    """Render an HTML document of ``templates/documents`` to PDF bytes, offline.

    ``identifier`` (e.g. ``credit-note/CN-2026-000007``) seeds the PDF file identifier;
    the dates come from the ``dcterms.created``/``dcterms.modified`` meta elements of the
    HTML. ``options`` go to WeasyPrint's ``write_pdf`` (e.g. ``pdf_variant="pdf/a-3b"``,
    ``attachments``, ``xmp_metadata``: ``coworking.einvoice.facturx.weasyprint_options``).
    Raises ``PdfRenderError``.
    """
    fetcher = LocalOnlyURLFetcher()
    try:
        stylesheet, font_config = _stylesheet(fetcher)
        with _cyclic_gc_paused():
            document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
            return document.write_pdf(
                stylesheets=[stylesheet],
                font_config=font_config,
                pdf_identifier=hashlib.md5(identifier.encode(), usedforsecurity=False).hexdigest(),
                uncompressed_pdf=False,
                **options,
            )
    except FatalURLFetchingError as error:
        raise PdfRenderError(str(error)) from None


def merged_pdf(parts: list[bytes], *, numbered: Callable[[int], bytes]) -> bytes:
    """The PDFs ``parts`` as one document (the first part's metadata), each page overlaid
    with the same page of ``numbered(pages)``: a document of that many pages carrying only
    what must run across the parts (the page counter)."""
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
