"""Credit-note endpoints: list, detail and PDF download. Thin: scope, call, render."""

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer

from coworking.api.pagination import StandardPagination
from coworking.api.renderers import PDFRenderer
from coworking.api.schema import problem_responses
from coworking.api.scoping import visible_credit_notes
from credits.api.serializers import CreditNoteDetailSerializer, CreditNoteSerializer
from credits.documents import credit_note_pdf_response


@extend_schema_view(
    list=extend_schema(
        summary="List credit notes",
        description=gettext_lazy(
            "Credit notes you may see, newest first, 50 a page: a member sees their own, staff "
            "with `credits.view_creditnote` see all."
        ),
    ),
    retrieve=extend_schema(summary="A credit note with its lines"),
)
class CreditNoteViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = StandardPagination

    def get_queryset(self):
        notes = visible_credit_notes(user=self.request.user)
        if self.action == "retrieve":
            notes = notes.prefetch_related("lines")
        return notes.order_by("-issue_date", "-sequence_number", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CreditNoteDetailSerializer
        return CreditNoteSerializer

    @extend_schema(
        summary="Download the credit-note PDF",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description=gettext_lazy("The PDF, as an attachment.")
            ),
            **problem_responses(
                409,
                503,
                _409=gettext_lazy(
                    "The PDF is not rendered yet (`pdf_not_ready`): retry in a minute."
                ),
                _503=gettext_lazy(
                    "The stored file was lost and is being rendered again (`pdf_unavailable`): "
                    "retry in a minute."
                ),
            ),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[PDFRenderer, JSONRenderer])
    def pdf(self, request, pk=None):
        return credit_note_pdf_response(credit_note=self.get_object())
