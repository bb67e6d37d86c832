"""The last check before a document takes its number: is it a valid e-invoice?

``invoice_issue`` and the credit-note core build the document as it will be issued (with a
provisional number: the rules never read its digits) and call :func:`check_before_issue`
inside their transaction, before taking the number. A fatal finding raises
:class:`EInvoiceInvalid` with the rule ids and messages, so nothing is written and no number
is used: what the official rules refuse is never issued.

Which rules: CII always (the XML the stored PDF embeds, Factur-X), against EN 16931; UBL too
when the buyer has an electronic address (any scheme but EM, the e-mail fallback): the
document travels as UBL. A business buyer with a Peppol address receives it over Peppol, so
its UBL is checked against the Peppol BIS Billing 3.0 rules as well (``goes_by_peppol``, the
same test ``manage.py validate_einvoices --peppol`` applies): a document the Peppol network
would refuse is not issued either. The stylesheets are compiled once per process
(``coworking.einvoice.validation``); docs/benchmarks.md has what the check costs.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from coworking.einvoice.document import Document, Syntax, goes_by_peppol
from coworking.einvoice.syntax import render
from coworking.einvoice.validation import validate
from coworking.error_codes import CoworkingErrorCode as Code
from coworking.errors import InvalidInput

MAX_FINDINGS_SHOWN = 5


class EInvoiceInvalid(InvalidInput):
    code = Code.EINVOICE_INVALID
    default_message = _lazy("The document would not be a valid e-invoice; it was not issued.")


def syntaxes_to_check(document: Document) -> list[str]:
    """CII always; UBL too for a buyer with an electronic address."""
    if document.buyer.electronic_address_scheme or goes_by_peppol(document):
        return [Syntax.CII, Syntax.UBL]
    return [Syntax.CII]


def check_before_issue(document: Document, *, label: str) -> None:
    """Raise ``EInvoiceInvalid`` naming the rules ``document`` breaks (EN 16931 in each
    syntax it is sent in, Peppol BIS in its UBL for a buyer reached over Peppol); ``label``
    names the document for people ("Invoice draft #12")."""
    problems: list[str] = []
    peppol = goes_by_peppol(document)
    for syntax in syntaxes_to_check(document):
        report = validate(render(document, syntax=syntax), peppol=peppol)
        problems += [f"{syntax.upper()} {problem}" for problem in report.problems()]
    if not problems:
        return
    shown = "; ".join(problems[:MAX_FINDINGS_SHOWN])
    if len(problems) > MAX_FINDINGS_SHOWN:
        shown += " " + _("(and %(count)s more)") % {"count": len(problems) - MAX_FINDINGS_SHOWN}
    raise EInvoiceInvalid(
        _(
            "%(document)s would not be a valid e-invoice under %(rules)s, so it was not issued "
            "and no number was used: %(findings)s."
        )
        % {
            "document": label,
            "rules": _("EN 16931 and Peppol BIS Billing 3.0") if peppol else "EN 16931",
            "findings": shown,
        },
        findings=problems,
    )
