"""Factur-X: a PDF/A-3 that carries its CII as ``factur-x.xml`` (EN 16931 profile).

WeasyPrint writes the PDF/A-3b itself, with the XML attached (relationship ``Data``, listed
in the catalogue's ``AF``) and the Factur-X XMP extension schema
(``static/documents/factur-x.xmp``), so the document is made in one pass and stays
reproducible: the attachment's dates are the document's issue date, never the clock
(unlike ``facturx.generate_from_binary``, which stamps the current time). Pass
``weasyprint_options(...)`` to ``HTML.write_pdf`` next to the renderer's own options.
"""

import datetime
from pathlib import Path

from django.conf import settings
from weasyprint import Attachment

XML_NAME = "factur-x.xml"
XMP_EXTENSION = Path(settings.BASE_DIR) / "static" / "documents" / "factur-x.xmp"


def weasyprint_options(*, cii: bytes, issue_date: datetime.date) -> dict:
    """``write_pdf`` keyword arguments that make the PDF a Factur-X of ``cii``, for one
    render (WeasyPrint reads an attachment's source once: call it again for the next)."""
    stamp = datetime.datetime.combine(issue_date, datetime.time(), tzinfo=datetime.UTC)
    attachment = Attachment(
        string=cii,
        name=XML_NAME,
        description="Factur-X invoice (EN 16931)",
        created=stamp,
        modified=stamp,
        relationship="Data",
    )
    return {
        "pdf_variant": "pdf/a-3b",
        "attachments": [attachment],
        "xmp_metadata": [XMP_EXTENSION.as_uri()],
    }
