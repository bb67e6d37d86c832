"""What the invoice and credit-note e-invoice endpoints share: the ``syntax`` parameter
and the documented responses."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from coworking.api.schema import problem_responses
from coworking.einvoice import check_syntax
from coworking.einvoice.document import Syntax

SYNTAX_PARAMETER = OpenApiParameter(
    "syntax",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    enum=Syntax.values,
    description=_(
        "`ubl`: UBL 2.1 per Peppol BIS Billing 3.0 (send it over Peppol); `cii`: UN/CEFACT "
        "CII, the XML of Factur-X/ZUGFeRD (the one embedded in the PDF)."
    ),
)


def einvoice_schema(*, summary: str, conflict: str = ""):
    """``@extend_schema`` of an e-invoice download."""
    responses = {
        (200, "application/xml"): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=_("The EN 16931 XML, as an attachment named after the number."),
        ),
        **problem_responses(
            422, _422=_("`einvoice_syntax_unknown`: `syntax` is neither `ubl` nor `cii`.")
        ),
    }
    if conflict:
        responses.update(problem_responses(409, _409=conflict))
    return extend_schema(summary=summary, parameters=[SYNTAX_PARAMETER], responses=responses)


def requested_syntax(request) -> str:
    """The ``syntax`` query parameter. Raises ``UnknownSyntax`` (422)."""
    return check_syntax(request.query_params.get("syntax", ""))
