from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coworking.errors import ApplicationError
from credits.documents import credit_note_pdf_response, credit_notes_render_pdfs
from credits.models import CancellationEvent, CreditNote, CreditNoteLine

ADMIN_RENDER_LIMIT = 50


class CreditNoteLineInline(admin.TabularInline):
    model = CreditNoteLine
    fields = ["position", "description", "quantity", "unit_price", "tax_rate", "net", "tax"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):
    """Read-only: credit notes are issued by the cancel operation only.

    Staff who may view credit notes download the PDF (``<id>/pdf/``) and run "Render
    missing PDFs" on notes whose PDF is pending or failed; the failure reason is shown.
    """

    list_display = [
        "number",
        "invoice_number",
        "customer",
        "location",
        "issue_date",
        "total",
        "pdf_status",
        "pdf_link",
    ]
    list_filter = ["location", "issue_date", "pdf_status"]
    list_select_related = ["customer", "location"]
    search_fields = ["number", "invoice_number", "customer__billing_name"]
    show_full_result_count = False
    date_hierarchy = "issue_date"
    inlines = [CreditNoteLineInline]
    actions = ["render_missing_pdfs"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "issue_date",
                    "location",
                    "customer",
                    "invoice",
                    "invoice_number",
                    "invoice_issue_date",
                    "currency",
                    "net_total",
                    "tax_total",
                    "total",
                    "reason",
                    "created_by",
                    "channel",
                    "created_at",
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

    # The PDF lives in private storage without a URL: it is only served by ``pdf_view``.
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "pdf_file"] + ["pdf_link"]

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

    def pdf_view(self, request, object_id):
        """Serve the stored PDF as an attachment to staff who may view the credit note."""
        credit_note = self.get_object(request, unquote(object_id))
        if credit_note is None:
            raise Http404(_("No such credit note."))
        if not self.has_view_permission(request, credit_note):
            raise PermissionDenied
        try:
            return credit_note_pdf_response(credit_note=credit_note)
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
        """Render, in this request, the PDFs of the selected notes that are pending or failed.

        At most ``ADMIN_RENDER_LIMIT`` per run (a render takes a fraction of a second);
        ready PDFs are left alone.
        """
        missing = list(
            queryset.exclude(pdf_status=CreditNote.PdfStatus.READY).order_by("created_at", "pk")
        )
        if not missing:
            self.message_user(
                request, _("The selected credit notes all have their PDF."), messages.INFO
            )
            return
        batch = missing[:ADMIN_RENDER_LIMIT]
        report = credit_notes_render_pdfs(credit_notes=batch)
        if report.rendered:
            self.message_user(
                request,
                ngettext(
                    "Rendered the PDF of %(count)d credit note.",
                    "Rendered the PDFs of %(count)d credit notes.",
                    len(report.rendered),
                )
                % {"count": len(report.rendered)},
                messages.SUCCESS,
            )
        for number, reason in report.failed.items():
            self.message_user(
                request,
                _("The PDF of %(number)s failed: %(reason)s")
                % {"number": number, "reason": reason},
                messages.ERROR,
            )
        if len(missing) > len(batch):
            self.message_user(
                request,
                ngettext(
                    "%(count)d more credit note is missing its PDF: run the action again.",
                    "%(count)d more credit notes are missing their PDF: run the action again.",
                    len(missing) - len(batch),
                )
                % {"count": len(missing) - len(batch)},
                messages.WARNING,
            )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CancellationEvent)
class CancellationEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "invoice", "credit_note", "actor", "channel", "previous_state"]
    list_filter = ["channel"]
    list_select_related = ["invoice", "credit_note", "actor"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
