"""E-invoices: every invoice and credit note as an EN 16931 document, in two syntaxes.

- ``document``: the document as plain values in the terms of the norm (``Document``);
- ``parties``: the seller and buyer of a document from a location and a customer;
- ``syntax``: ``render(document, syntax=...)`` writes it as CII (Factur-X) or UBL (Peppol);
- ``validation``: ``validate(bytes)`` checks XML or a Factur-X PDF against the official rules.

Which documents exist is the apps' business: ``invoicing.einvoice`` builds invoices,
``credits.einvoice`` credit notes, both on this shared base (the dependency direction is
credits → invoicing → coworking).
"""

from django.utils.translation import gettext_lazy as _

from coworking.einvoice.document import Syntax
from coworking.error_codes import CoworkingErrorCode as Code
from coworking.errors import InvalidInput


class UnknownSyntax(InvalidInput):
    code = Code.EINVOICE_SYNTAX_UNKNOWN
    default_message = _("Unknown e-invoice syntax: use ubl or cii.")


def check_syntax(syntax: str) -> str:
    """``syntax`` when it is ``cii`` or ``ubl``; raises ``UnknownSyntax`` otherwise."""
    if syntax not in Syntax.values:
        raise UnknownSyntax(
            _("Unknown e-invoice syntax %(syntax)r: use %(choices)s.")
            % {"syntax": syntax, "choices": " or ".join(Syntax.values)}
        )
    return syntax
