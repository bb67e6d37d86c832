"""Invoice endpoints: list, detail and PDF. Thin: scope, parse, call, render. (Cancelling
an invoice is the credits app's endpoint, ``credits.api.views``.)"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from coworking.api.documents import einvoice_download, pdf_download
from coworking.api.pagination import KeysetPagination
from coworking.api.schema import problem_responses
from invoicing.api.serializers import (
    InvoiceDetailSerializer,
    InvoiceFilterSerializer,
    InvoiceSerializer,
)
from invoicing.corrections import corrections_prefetch
from invoicing.documents import INVOICE_DOCUMENT
from invoicing.selectors import visible_invoices


@extend_schema_view(
    list=extend_schema(
        summary="List invoices",
        description=gettext_lazy(
            "Invoices you may see, newest first (drafts, then by issue date), 50 a page: a "
            "member sees their own issued invoices, staff with `invoicing.view_invoice` see "
            "all (drafts included). Follow `next` for the following page."
        ),
        parameters=[InvoiceFilterSerializer],
        responses={
            200: InvoiceSerializer(many=True),
            **problem_responses(
                422,
                _422=gettext_lazy(
                    "`invalid_input`: a filter or `page_size` that is not one of its allowed "
                    "values (an empty value too), `issued_to` before `issued_from`, or a "
                    "`cursor` that is not one of a response's links."
                ),
            ),
        },
    ),
    retrieve=extend_schema(
        summary="An invoice with its lines and payments",
    ),
)
class InvoiceViewSet(viewsets.ReadOnlyModelViewSet):
    pagination_class = KeysetPagination
    # Newest first, drafts (no issue date) before them; the indexes of ``Invoice.Meta``
    # hold this order, per customer too.
    keyset_ordering = ("issue_date", "id")
    serializer_class = InvoiceSerializer

    def get_queryset(self):
        invoices = visible_invoices(user=self.request.user)
        invoices = invoices.select_related("location", "customer").prefetch_related(
            *corrections_prefetch()
        )
        if self.action in ("retrieve", "einvoice"):
            invoices = invoices.prefetch_related("lines", "allowance_charges", "payments")
        return invoices.order_by("-issue_date", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return InvoiceDetailSerializer
        return InvoiceSerializer

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        # A plain dict, not the QueryDict: DRF reads an empty value in a QueryDict as "not
        # given" (HTML form semantics), so `?state=` would list everything.
        filters = InvoiceFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        lookups = {
            "state": "state",
            "currency": "currency",
            "issued_from": "issue_date__gte",
            "issued_to": "issue_date__lte",
        }
        return queryset.filter(
            **{lookups[name]: value for name, value in filters.validated_data.items()}
        )

    document_kind = INVOICE_DOCUMENT
    pdf = pdf_download(
        summary="Download the invoice PDF",
        description=gettext_lazy(
            "The invoice as issued, rendered once after issue and stored: later payments or a "
            "cancellation do not change it (the credit note is a document of its own)."
        ),
        conflict=gettext_lazy(
            "A draft has no PDF (`invoice_is_draft`); the PDF is not rendered yet "
            "(`pdf_not_ready`): retry in a minute."
        ),
    )
    einvoice = einvoice_download(
        summary="Download the invoice as an e-invoice (EN 16931 XML)",
        conflict=gettext_lazy("A draft has no e-invoice (`invoice_is_draft`)."),
    )
