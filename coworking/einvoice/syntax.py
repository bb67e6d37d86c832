"""Writing a ``Document`` as CII (Factur-X, EN 16931 profile) or UBL 2.1 (Peppol BIS
Billing 3.0).

Both syntaxes come from one mapping to EN 16931's business terms (``business_terms``: a
dict keyed by BT/BG numbers), handed to the ``factur-x`` package's generators, which build
the XML trees with lxml. Two touches follow on the tree: the UBL gets Peppol's
specification identifier (BT-24; the package writes the bare EN 16931 one), and empty
elements the package marks ``xsi:nil`` are left plain (the CII schema refuses ``nil``).
The output is canonical for a given document: same document, same bytes.
"""

from decimal import Decimal

from django.http import HttpResponse
from lxml import etree

from coworking.einvoice.document import (
    AllowanceCharge,
    Document,
    Line,
    Party,
    PaymentMeans,
    Syntax,
    VatBreakdown,
)
from coworking.l10n import plain_number
from coworking.vat import VatCategory

EN16931 = "urn:cen.eu:en16931:2017"
PEPPOL_BIS_BILLING = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
UNIT_ONE = "C62"  # UN/ECE rec. 20: "one" (a unit, a desk-month, an hour booked as sold)
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
UBL_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _number(value: Decimal) -> str:
    """A quantity, price or rate without trailing zeros (``1.500`` → ``1.5``)."""
    return plain_number(value)


def _party(party: Party, *, state_vat_ids: bool) -> dict:
    terms = {"name": party.name, "country_code": party.country}
    optional = {
        "biz_name": party.trading_name,
        "postcode": party.postcode,
        "city": party.city,
        "legal_identifier": party.registration_id,
        "legal_identifier_schemeid": party.registration_scheme if party.registration_id else "",
        "legal_info": party.legal_info,
        "vat_identifier": party.vat_id if state_vat_ids else "",
        "einvoicing_addr": party.electronic_address,
        "einvoicing_addr_schemeid": party.electronic_address_scheme,
    }
    for number, line in enumerate(party.street_lines[:3], start=1):
        optional[f"addr_l{number}"] = line
    if party.email:
        optional["contacts"] = [{"email": party.email}]
    terms.update({key: value for key, value in optional.items() if value})
    return terms


def _rate_terms(category: str, rate: Decimal, key: str) -> dict:
    # Outside the scope of VAT has no rate at all (BR-O-05, BR-O-09).
    return {} if category == VatCategory.OUTSIDE_SCOPE else {key: _number(rate)}


def _breakdown(entry: VatBreakdown) -> dict:
    terms = {
        "BT-116": _amount(entry.taxable),
        "BT-117": _amount(entry.tax),
        "BT-118": entry.category,
        **_rate_terms(entry.category, entry.rate, "BT-119"),
    }
    if entry.exemption_reason:
        terms["BT-120"] = entry.exemption_reason
    if entry.exemption_reason_code:
        terms["BT-121"] = entry.exemption_reason_code
    return terms


def _line(line: Line) -> dict:
    terms = {
        "BT-126": str(line.position),
        "BT-129": _number(line.quantity),
        "BT-130": UNIT_ONE,
        "BT-131": _amount(line.net),
        "BT-146": _number(line.unit_price),
        "BT-151": line.vat_category,
        **_rate_terms(line.vat_category, line.vat_rate, "BT-152"),
        "BT-153": line.description,
    }
    if line.period_start is not None:
        terms["BT-134"], terms["BT-135"] = line.period_start, line.period_end
    if line.allowance:
        terms["BG-27"] = [_allowance(line)]
    return terms


def _allowance(line: Line) -> dict:
    """BG-27: the amount (BT-136), its base and percentage where one was given (BT-137,
    BT-138), the reason and its UNTDID 5189 code (BT-139, BT-140)."""
    terms = {"amount": _amount(line.allowance), "reason": line.allowance_reason}
    if line.allowance_reason_code:
        terms["reason_code"] = line.allowance_reason_code
    if line.allowance_percent is not None:
        terms["base_amount"] = _amount(line.gross)
        terms["rate"] = _number(line.allowance_percent)
    return terms


def _document_allowance(row: AllowanceCharge) -> dict:
    """BG-20 (BT-92..BT-98) or BG-21 (BT-99..BT-105): amount, base and percentage where
    one was given, the VAT breakdown it belongs to (no rate outside the scope of VAT,
    BR-O-06/07), reason and code."""
    terms = {
        "amount": _amount(row.amount),
        "reason": row.reason,
        "vat_category_code": row.vat_category,
        **_rate_terms(row.vat_category, row.vat_rate, "vat_rate"),
    }
    if row.reason_code:
        terms["reason_code"] = row.reason_code
    if row.percent is not None and row.base_amount is not None:
        terms["base_amount"] = _amount(row.base_amount)
        terms["rate"] = _number(row.percent)
    return terms


def _payment_means(means: PaymentMeans) -> dict:
    """BT-81..BT-86: the transfer, its reference and the account it goes to."""
    terms = {"BT-81": means.code, "BT-82": means.label, "BT-84": means.iban}
    optional = {"BT-83": means.reference, "BT-85": means.account_name, "BT-86": means.bic}
    terms.update({key: value for key, value in optional.items() if value})
    return terms


def business_terms(document: Document) -> dict:
    """The document as EN 16931 business terms, in the ``factur-x`` package's format."""
    state_vat_ids = not document.outside_scope
    terms: dict = {
        "BT-1": document.number,
        "BT-2": document.issue_date,
        "BT-3": document.type_code,
        "BT-5": document.currency,
        "BG-4": _party(document.seller, state_vat_ids=state_vat_ids),
        "BG-7": _party(document.buyer, state_vat_ids=state_vat_ids),
        "BG-23": [_breakdown(entry) for entry in document.vat_breakdown()],
        "BG-25": [_line(line) for line in document.lines],
        "BT-106": _amount(document.line_total),
        "BT-109": _amount(document.net_total),
        "BT-110": _amount(document.tax_total),
        "BT-112": _amount(document.total),
        "BT-115": _amount(document.amount_due),
    }
    if document.prepaid:
        terms["BT-113"] = _amount(document.prepaid)
    allowances = [row for row in document.allowance_charges if not row.charge]
    charges = [row for row in document.allowance_charges if row.charge]
    if allowances:
        terms["BG-20"] = [_document_allowance(row) for row in allowances]
        terms["BT-107"] = _amount(document.allowance_total)
    if charges:
        terms["BG-21"] = [_document_allowance(row) for row in charges]
        terms["BT-108"] = _amount(document.charge_total)
    optional = {
        "BT-9": document.due_date,
        "BT-10": document.buyer_reference,
        "BT-13": document.order_reference,
        "BT-20": document.payment_terms,
    }
    terms.update({key: value for key, value in optional.items() if value})
    if document.vat_currency and document.vat_currency != document.currency:
        terms["BT-6"] = document.vat_currency
        terms["BT-111"] = _amount(document.tax_total_vat_currency)
    if document.preceding_invoice is not None:
        number, date = document.preceding_invoice
        terms["BG-3"] = [{"BT-25": number, "BT-26": date}]
    if document.all_notes:
        terms["BG-1"] = [
            {"BT-22": note.text, **({"BT-21": note.subject} if note.subject else {})}
            for note in document.all_notes
        ]
    if document.vat_on_invoice_date:
        terms["BT-8"] = "invoice"
    if document.deliver_to is not None:
        place = _party(document.deliver_to, state_vat_ids=False)
        terms["BG-13"] = {
            key: value
            for key, value in place.items()
            if key in {"name", "country_code", "postcode", "city", "addr_l1", "addr_l2", "addr_l3"}
        }
    if document.payment_means is not None:
        terms.update(_payment_means(document.payment_means))
    return terms


def _one_note(notes: list[dict]) -> list[dict]:
    """Peppol BIS allows one document note (PEPPOL-EN16931-R002): the notes become the
    lines of one, each with its subject code as UBL writes it (``#PMT#…``)."""
    if len(notes) <= 1:
        return notes
    lines = [
        f"#{note['BT-21']}#{note['BT-22']}" if "BT-21" in note else note["BT-22"] for note in notes
    ]
    return [{"BT-22": "\n".join(lines)}]


def _tidy(xml: bytes, *, customization_id: str | None = None) -> bytes:
    root = etree.fromstring(xml)
    for element in root.iter():
        element.attrib.pop(XSI_NIL, None)
    if customization_id:
        root.find(f"{{{UBL_CBC}}}CustomizationID").text = customization_id
    etree.cleanup_namespaces(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render(document: Document, *, syntax: str) -> bytes:
    """The document's XML in ``syntax`` (``Syntax.CII`` or ``Syntax.UBL``), UTF-8 bytes.
    (The generators edit the dict they are given, so each call builds its own.)

    Raises ``ValueError`` for an unknown syntax or a document the generators refuse.
    The generators' package (``facturx``, with its PDF and HTTP libraries) is imported
    here, not when the application starts.
    """
    from facturx import generate_cii_xml, generate_ubl_xml

    terms = business_terms(document)
    if syntax == Syntax.CII:
        xml = generate_cii_xml(terms, level="en16931", check_xsd=False, check_schematron=False)
        return _tidy(xml)
    if syntax == Syntax.UBL:
        terms["BT-23"] = PEPPOL_PROCESS
        if "BG-1" in terms:
            terms["BG-1"] = _one_note(terms["BG-1"])
        xml = generate_ubl_xml(terms, level="en16931", check_xsd=False, check_schematron=False)
        return _tidy(xml, customization_id=PEPPOL_BIS_BILLING)
    raise ValueError(f"Unknown e-invoice syntax {syntax!r}; expected one of {Syntax.values}.")


def file_name(document_number: str, *, syntax: str) -> str:
    """``AMS-2026-000042-ubl.xml``: the number and the syntax."""
    return f"{document_number}-{syntax}.xml"


def xml_attachment(xml: bytes, *, number: str, syntax: str) -> HttpResponse:
    """The XML as a download named after the document's number (API and admin)."""
    response = HttpResponse(xml, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{file_name(number, syntax=syntax)}"'
    return response
