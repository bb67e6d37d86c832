"""Factur-X: a PDF/A-3 that carries its CII as ``factur-x.xml`` (EN 16931 profile).

WeasyPrint writes the PDF/A-3b itself, with the XML attached (relationship ``Data``, listed
in the catalogue's ``AF``) and the Factur-X XMP extension schema
(``static/documents/factur-x.xmp``), so the document is made in one pass and stays
reproducible: the attachment's dates are the document's issue date, never the clock
(unlike ``facturx.generate_from_binary``, which stamps the current time). A finisher
then makes the XMP one packet with one ``rdf:RDF`` (WeasyPrint appends extra XMP as a
second one, which readers such as pikepdf do not see) and lists the XML once in ``AF``
(WeasyPrint lists an attachment once from the name tree and once from its file spec). Pass
``weasyprint_options(...)`` to ``HTML.write_pdf`` next to the renderer's own options.
"""

import datetime
from pathlib import Path

import pydyf
from django.conf import settings
from lxml import etree

XML_NAME = "factur-x.xml"
XMP_EXTENSION = Path(settings.BASE_DIR) / "static" / "documents" / "factur-x.xmp"


def weasyprint_options(*, cii: bytes, issue_date: datetime.date) -> dict:
    """``write_pdf`` keyword arguments that make the PDF a Factur-X of ``cii``, for one
    render (WeasyPrint reads an attachment's source once: call it again for the next).
    WeasyPrint is imported here, as the renderer imports it: at the first render."""
    from weasyprint import Attachment

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
        "finisher": one_xmp_packet_and_af_once,
    }


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def one_xmp_packet_and_af_once(_document, pdf: pydyf.PDF) -> None:
    """A WeasyPrint finisher: the catalogue's ``AF`` without repeats, and the metadata
    stream's ``rdf:RDF`` blocks merged into the first."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))
    reference = pdf.catalog.get("Metadata")
    if reference is None:
        return
    stream = pdf.objects[int(bytes(reference).split()[0])]
    content = b"".join(stream.stream)
    start, end = (
        content.index(b"<x:xmpmeta"),
        content.rindex(b"</x:xmpmeta>") + len(b"</x:xmpmeta>"),
    )
    meta = etree.fromstring(content[start:end])
    first, *others = meta.findall(f"{{{RDF}}}RDF")
    for other in others:
        first.extend(list(other))
        meta.remove(other)
    stream.stream = [content[:start] + etree.tostring(meta, encoding="utf-8") + content[end:]]
