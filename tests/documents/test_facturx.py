"""Factur-X: WeasyPrint writes a PDF/A-3b carrying the document's CII as factur-x.xml, the
same bytes every time, which the official rules accept through the PDF; the stored PDF of
every invoice and credit note is one, carrying the CII the API serves."""

import io

import pypdf
import pytest
from facturx import get_level
from lxml import etree
from weasyprint import HTML

from coworking.documents.storage import stored_pdf_bytes
from coworking.einvoice.facturx import weasyprint_options
from coworking.einvoice.validation import embedded_xml, validate
from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.einvoice import credit_note_einvoice
from credits.services import invoice_cancel
from invoicing.documents import INVOICE_DOCUMENT
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel
from tests.factories import issued_invoice, portal_member

pytestmark = pytest.mark.django_db

PAGE = (
    '<html><head><meta name="dcterms.created" content="{date}">'
    '<meta name="dcterms.modified" content="{date}"><title>{number}</title></head>'
    "<body><p>{number}</p></body></html>"
)


def factur_x(document, cii: bytes) -> bytes:
    html = PAGE.format(date=document.issue_date.isoformat(), number=document.number)
    return HTML(string=html).write_pdf(
        pdf_identifier=document.number.encode().ljust(16, b"-")[:16],
        **weasyprint_options(cii=cii, issue_date=document.issue_date),
    )


def test_the_pdf_carries_the_cii_the_api_serves_and_passes_the_rules():
    invoice = issued_invoice()
    note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    for document, cii in (
        (invoice, invoice_einvoice(invoice=invoice, syntax="cii")),
        (note, credit_note_einvoice(credit_note=note, syntax="cii")),
    ):
        pdf = factur_x(document, cii)
        assert embedded_xml(pdf) == cii
        assert get_level(etree.fromstring(embedded_xml(pdf))) == "en16931"
        report = validate(pdf)
        assert report.valid, report.problems()


def test_the_pdf_is_pdf_a_3_with_the_xml_as_its_data_and_the_factur_x_metadata():
    invoice = issued_invoice()
    pdf = factur_x(invoice, invoice_einvoice(invoice=invoice, syntax="cii"))
    root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    attached = {
        (reference.get_object()["/F"], reference.get_object()["/AFRelationship"])
        for reference in root["/AF"]
    }
    assert attached == {("factur-x.xml", "/Data")}
    xmp = root["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert b"<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp


def test_the_xmp_is_one_rdf_packet_and_the_xml_is_listed_once_in_af():
    """PDF/A wants one XMP packet: a second ``rdf:RDF`` block (where WeasyPrint put the
    Factur-X properties) is invisible to readers that take the first; ``AF`` lists each
    associated file once."""
    invoice = issued_invoice()
    pdf = factur_x(invoice, invoice_einvoice(invoice=invoice, syntax="cii"))
    root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert [reference.get_object()["/F"] for reference in root["/AF"]] == ["factur-x.xml"]
    xmp = root["/Metadata"].get_object().get_data()
    meta = etree.fromstring(xmp[xmp.index(b"<x:xmpmeta") : xmp.rindex(b"</x:xmpmeta>") + 12])
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
    (packet,) = meta.findall(rdf)
    fx = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
    assert packet.findtext(f".//{{{fx}}}DocumentFileName") == "factur-x.xml"
    namespaces = {"rdf": rdf[1:-4], "pdfaid": "http://www.aiim.org/pdfa/ns/id/"}
    assert packet.xpath("rdf:Description/@pdfaid:part", namespaces=namespaces) == ["3"]


def test_same_document_same_bytes():
    invoice = issued_invoice()
    cii = invoice_einvoice(invoice=invoice, syntax="cii")
    assert factur_x(invoice, cii) == factur_x(invoice, cii)


def test_a_pdf_without_its_xml_is_refused_by_the_check():
    invoice = issued_invoice()
    plain = HTML(string=PAGE.format(date="2026-03-01", number=invoice.number)).write_pdf()
    report = validate(plain)
    assert not report.valid and "no embedded" in report.schema_errors[0]


def attached_factur_x(pdf: bytes) -> bytes:
    """The ``factur-x.xml`` attached to a PDF, read with pypdf (not the validator's reader)."""
    attachments = pypdf.PdfReader(io.BytesIO(pdf)).attachments
    assert list(attachments) == ["factur-x.xml"]
    [xml] = attachments["factur-x.xml"]
    return xml


@pytest.mark.usefixtures("fast_password_hasher")
@pytest.mark.parametrize("kind", ["invoices", "credit-notes"])
def test_the_stored_pdf_is_a_factur_x_of_the_cii_the_api_serves(api_client, kind):
    invoice = INVOICE_DOCUMENT.render_pdf(document=issued_invoice(customer=portal_member()))
    document = invoice
    if kind == "credit-notes":
        note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
        document = CREDIT_NOTE_DOCUMENT.render_pdf(document=note)
    client = api_client(document.customer.portal_user)
    pdf = client.get(f"/api/v1/{kind}/{document.pk}/pdf")
    cii = client.get(f"/api/v1/{kind}/{document.pk}/einvoice?syntax=cii")
    assert pdf.status_code == cii.status_code == 200
    stored = b"".join(pdf.streaming_content)

    assert stored == stored_pdf_bytes(document)
    assert attached_factur_x(stored) == cii.content
    xmp = pypdf.PdfReader(io.BytesIO(stored)).trailer["/Root"]["/Metadata"].get_object()
    assert b'pdfaid:part="3"' in xmp.get_data()
    report = validate(stored)
    assert report.valid and not report.fatal, report.problems()

    if kind == "invoices":
        again = INVOICE_DOCUMENT.render_pdf(document=document.pk, force=True)
    else:
        again = CREDIT_NOTE_DOCUMENT.render_pdf(document=document.pk, force=True)
    assert again.pdf_sha256 == document.pdf_sha256
