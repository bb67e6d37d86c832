"""``GET /api/v1/journal/export``: the journal export for staff with
``books.export_journal``. Thin: parse, call ``books.exports.journal_export``, stream."""

import datetime

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from books.errors import InvalidExport
from books.exports import Format, journal_export
from coworking.api.schema import problem_responses
from coworking.models import Location


class CanExportJournal(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_staff and user.has_perm("books.export_journal"))


class FormatIsAParameter(DefaultContentNegotiation):
    """``format`` names the export here, not a renderer: problems are JSON, the export
    streams its own type."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _date(request, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.query_params.get(name, ""))
    except ValueError:
        raise InvalidExport(
            _("%(name)s must be a date (YYYY-MM-DD).") % {"name": f"`{name}`"}
        ) from None


class JournalExportView(APIView):
    permission_classes = [CanExportJournal]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = FormatIsAParameter

    @extend_schema(
        summary="Export a location's journal",
        description=gettext_lazy(
            "The journal of one location (its invoice prefix) for a period, as FEC, the CSV "
            "journal (Xero), DATEV EXTF, or the VAT summary as CSV; streamed. Staff with "
            "`books.export_journal` only."
        ),
        parameters=[
            OpenApiParameter("format", str, required=True, enum=Format.values),
            OpenApiParameter("location", str, required=True),
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
            **problem_responses(403, 422),
        },
    )
    def get(self, request):
        location = Location.objects.filter(
            invoice_prefix=request.query_params.get("location", "")
        ).first()
        if location is None:
            raise InvalidExport(_("No location has this code (its invoice prefix)."))
        export = journal_export(
            location=location,
            format=request.query_params.get("format", ""),
            start=_date(request, "from"),
            end=_date(request, "to"),
        )
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
