"""The download actions of a document's endpoints (its PDF, its e-invoice), declared once.

A viewset sets ``document_kind`` (``coworking.documents.kinds``) and takes the two actions,
with its own summary and documented conflicts: ``pdf = pdf_download(...)``,
``einvoice = einvoice_download(...)``. The viewset's ``get_object`` decides who may see the
document (404 otherwise), the kind what the download answers.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer

from coworking.api.einvoice import einvoice_schema, requested_syntax
from coworking.api.renderers import PDFRenderer, XMLRenderer
from coworking.api.schema import problem_responses
from coworking.api.throttling import DocumentDownloadThrottle, ReadThrottle
from coworking.einvoice.syntax import xml_attachment

_DOWNLOAD_THROTTLES = [ReadThrottle, DocumentDownloadThrottle]
_UNAVAILABLE: Any = _(
    "The stored file was lost and is being rendered again (`pdf_unavailable`): retry in a minute."
)


def pdf_download(*, summary: str, conflict: Any, description: Any = None) -> Any:
    """The ``GET .../{id}/pdf`` action: the stored PDF, as an attachment (``conflict`` and
    ``description``, lazy translations, document its 409 and the operation)."""

    @extend_schema(
        summary=summary,
        description=description,
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The PDF, as an attachment.")
            ),
            **problem_responses(
                409,
                503,
                _409=conflict,
                _503=_UNAVAILABLE,
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[PDFRenderer, JSONRenderer],
        throttle_classes=_DOWNLOAD_THROTTLES,
    )
    def pdf(self, request, pk=None):
        return self.document_kind.pdf_response(document=self.get_object())

    return pdf


def einvoice_download(*, summary: str, conflict: Any = "") -> Any:
    """The ``GET .../{id}/einvoice?syntax=`` action: the EN 16931 XML, as an attachment."""

    @einvoice_schema(summary=summary, conflict=conflict)
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[XMLRenderer, JSONRenderer],
        throttle_classes=_DOWNLOAD_THROTTLES,
    )
    def einvoice(self, request, pk=None):
        document = self.get_object()
        syntax = requested_syntax(request)
        xml = self.document_kind.einvoice_xml(document=document, syntax=syntax)
        return xml_attachment(xml, number=document.number, syntax=syntax)

    return einvoice
