"""Credit notes (read-only, PDF download, "Render missing PDFs") and the cancellation
audit trail.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from coworking.admin import (
    IndexedSearchMixin,
    ReadOnlyAdminMixin,
    RenderTexts,
    money_display,
    number_display,
    render_pdfs_in_request,
)
from coworking.einvoice.admin import EInvoiceDownloads
from coworking.errors import ApplicationError
from coworking.pagination import LargeTablePaginator
from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.einvoice import credit_note_einvoice
from credits.models import CancellationEvent, CreditNote, CreditNoteLine

RENDER_TEXTS = RenderTexts(
    all_ready=_("The selected credit notes all have their PDF."),
    rendered=ngettext_lazy(
        "Rendered the PDF of %(count)d credit note.",
        "Rendered the PDFs of %(count)d credit notes.",
        "count",
    ),
    more_missing=ngettext_lazy(
        "%(count)d more credit note is missing its PDF: run the action again.",
        "%(count)d more credit notes are missing their PDF: run the action again.",
        "count",
    ),
)


class CreditNoteLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditNoteLine
    fields = [
        "position", "description", "quantity_display", "unit_price_display", "tax_rate_display",
        "net_display", "tax_display", "vat_category", "vat_exemption_reason", "period_start",
        "period_end",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    quantity_display = number_display("quantity", _("quantity"))
    tax_rate_display = number_display("tax_rate", _("tax rate"), percent=True)
    unit_price_display = money_display("unit_price", _("unit price"), price=True)
    net_display = money_display("net", _("net"))
    tax_display = money_display("tax", _("tax"))


@admin.register(CreditNote)
class CreditNoteAdmin(EInvoiceDownloads, IndexedSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: credit notes are issued by the cancel operation only.

    Staff who may view credit notes download the PDF (``<id>/pdf/``) and run "Render
    missing PDFs" on notes whose PDF is pending or failed; the failure reason is shown.
    """

    list_display = [
        "number",
        "invoice_number",
        "customer",
        "issue_date",
        "total_display",
        "pdf_link",
    ]
    list_filter = ["location", "issue_date", "pdf_status"]
    list_select_related = ["customer", "location"]
    search_fields = ["number", "invoice_number", "customer__billing_name"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    date_hierarchy = "issue_date"
    inlines = [CreditNoteLineInline]
    actions = ["render_missing_pdfs"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "einvoice_links",
                    "issue_date",
                    "location",
                    "customer",
                    "invoice",
                    "invoice_number",
                    "invoice_issue_date",
                    "currency",
                    "net_total_display",
                    "tax_total_display",
                    "total_display",
                    "reason",
                    "created_by",
                    "channel",
                    "created_at",
                    "buyer_reference",
                    "vat_currency",
                    "vat_exchange_rate_display",
                    "tax_total_vat_currency",
                ]
            },
        ),
        (
            _("PDF"),
            {
                "fields": [
                    "pdf_status",
                    "pdf_link",
                    "pdf_error",
                    "pdf_sha256",
                    "pdf_size",
                    "pdf_rendered_at",
                    "emailed_at",
                ]
            },
        ),
    ]

    net_total_display = money_display("net_total", _("net total"))
    tax_total_display = money_display("tax_total", _("tax total"))
    total_display = money_display("total", _("total"))
    vat_exchange_rate_display = number_display(
        "vat_exchange_rate", _("exchange rate to the VAT currency")
    )

    # The PDF lives in private storage without a URL: it is only served by ``pdf_view``.
    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in self.model._meta.fields if f.name != "pdf_file"]
        return [
            *fields,
            "pdf_link",
            "einvoice_links",
            "net_total_display",
            "tax_total_display",
            "total_display",
            "vat_exchange_rate_display",
        ]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="{}_{}_pdf".format(*info),
            ),
            *super().get_urls(),
        ]

    def einvoice_xml(self, obj, syntax):
        return credit_note_einvoice(credit_note=obj, syntax=syntax)

    def pdf_view(self, request, object_id):
        """Serve the stored PDF as an attachment to staff who may view the credit note."""
        credit_note = self.get_object(request, unquote(object_id))
        if credit_note is None:
            raise Http404(_("No such credit note."))
        if not self.has_view_permission(request, credit_note):
            raise PermissionDenied
        try:
            return CREDIT_NOTE_DOCUMENT.pdf_response(document=credit_note)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.WARNING)
            return redirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[credit_note.pk],
                    current_app=self.admin_site.name,
                )
            )

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj.pdf_status != CreditNote.PdfStatus.READY:
            return obj.get_pdf_status_display()
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_pdf",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )
        return format_html('<a href="{}">{}</a>', url, _("Download PDF"))

    def has_render_pdf_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(permissions=["render_pdf"], description=_("Render missing PDFs"))
    def render_missing_pdfs(self, request, queryset):
        """Render, in this request, the PDFs of the selected notes that are pending or failed
        (``coworking.admin.render_pdfs_in_request``); ready PDFs are left alone."""
        missing = queryset.exclude(pdf_status=CreditNote.PdfStatus.READY)
        render_pdfs_in_request(
            self,
            request,
            missing=list(missing.order_by("created_at", "pk")),
            render_pdfs=lambda batch: CREDIT_NOTE_DOCUMENT.render_pdfs(documents=batch),
            texts=RENDER_TEXTS,
        )


@admin.register(CancellationEvent)
class CancellationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "invoice", "credit_note", "actor", "channel", "previous_state"]
    list_filter = ["channel"]
    list_select_related = ["invoice", "credit_note", "actor"]
