"""WeasyPrint, behind ``coworking.documents.rendering.render_pdf``: imported at a process's
first render only. Importing WeasyPrint (with its fonts, CSS and PDF libraries) is about
half of what starting the application costs; the commands, web workers and Celery workers
that render nothing start without it. What the renderer guarantees (offline, reproducible)
is told in ``coworking.documents.rendering``."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import mimetypes
import threading
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint.pdf.fonts
from fontTools.ttLib import TTFont
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from coworking.documents.rendering import STATIC_DIR, PdfRenderError

STYLESHEET = STATIC_DIR / "documents" / "print.css"


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


def write_pdf(*, html: str, identifier: str, **options) -> bytes:
    """``coworking.documents.rendering.render_pdf``'s work (its arguments, its errors)."""
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
