"""The books in the admin: the chart of accounts (codes and labels editable), the journal
(read-only), closed periods (closing one is the ``period_close`` service), and the export
and VAT summary pages."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from books.exports import Format, journal_export
from books.models import Account, ClosedPeriod, JournalEntry, JournalLine
from books.selectors import journal_totals, vat_summary
from books.services import period_close
from coworking.admin import LanguageDateInput, ReadOnlyAdminMixin
from coworking.errors import ApplicationError
from coworking.models import Location


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "purpose", "key", "location")
    list_filter = ("location", "purpose")
    search_fields = ("code", "label")

    def get_readonly_fields(self, request, obj=None):
        # What an account is for is fixed once it exists; its number and label are not
        # (what was posted keeps the number and label it was posted with).
        return ("location", "purpose", "key") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False


class JournalLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JournalLine
    fields = (
        "account_code",
        "account_label",
        "customer",
        "debit",
        "credit",
        "amount_currency",
        "currency",
        "vat_category",
        "tax_rate",
        "lettering",
    )
    readonly_fields = fields
    extra = 0


class PeriodForm(forms.Form):
    location = forms.ModelChoiceField(Location.objects.all(), label=_("Location"))
    start = forms.DateField(label=_("From"), widget=LanguageDateInput())
    end = forms.DateField(label=_("Until"), widget=LanguageDateInput())


class ExportForm(PeriodForm):
    format = forms.ChoiceField(choices=Format.choices, label=_("Format"))


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "date", "location", "document_number", "customer", "label")
    list_filter = ("location", "journal", "fiscal_year")
    search_fields = ("document_number", "label")
    date_hierarchy = "date"
    inlines = [JournalLineInline]
    list_select_related = ("location", "customer")
    fields = (
        "location",
        "journal",
        "fiscal_year",
        "number",
        "date",
        "document_number",
        "document_date",
        "corrects",
        "customer",
        "label",
        "currency",
        "posted_at",
    )
    readonly_fields = fields

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="books_journalentry_export",
            ),
            path(
                "vat-summary/",
                self.admin_site.admin_view(self.vat_summary_view),
                name="books_journalentry_vat_summary",
            ),
            *super().get_urls(),
        ]

    def _check_export_permission(self, request):
        if not request.user.has_perm("books.export_journal"):
            raise PermissionDenied

    def export_view(self, request):
        """GET: the form; with its fields: the export, streamed as a download."""
        self._check_export_permission(request)
        form = ExportForm(request.GET or None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                export = journal_export(
                    location=data["location"],
                    format=data["format"],
                    start=data["start"],
                    end=data["end"],
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
                response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
                return response
        return TemplateResponse(
            request,
            "admin/books/journalentry/export.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "title": _("Export the journal"),
            },
        )

    def vat_summary_view(self, request):
        """The VAT summary of a location and period, with its CSV."""
        self._check_export_permission(request)
        form = PeriodForm(request.GET or None)
        rows, totals = None, None
        if form.is_valid():
            data = form.cleaned_data
            rows = vat_summary(location=data["location"], start=data["start"], end=data["end"])
            totals = journal_totals(location=data["location"], start=data["start"], end=data["end"])
        return TemplateResponse(
            request,
            "admin/books/journalentry/vat_summary.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "rows": rows,
                "totals": totals,
                "csv_query": request.GET.urlencode() + "&format=vat" if rows is not None else "",
                "title": _("VAT summary"),
            },
        )


class ClosedPeriodForm(forms.ModelForm):
    """Closes the period when checked (``period_close``), so its refusals show on the form;
    the admin's add view runs in one transaction."""

    user: Any = None

    class Meta:
        model = ClosedPeriod
        fields = ("location", "start", "end")
        widgets = {
            "start": LanguageDateInput(),
            "end": LanguageDateInput(),
        }

    def clean(self):
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.instance = period_close(
                location=data["location"],
                start=data["start"],
                end=data["end"],
                actor=self.user,
            )
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None
        return data


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(admin.ModelAdmin):
    """Closing a period is adding one; a closed period never changes nor reopens."""

    list_display = ("location", "start", "end", "closed_by", "closed_at")
    list_filter = ("location",)
    form = ClosedPeriodForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        """``period_close`` wrote it when the form was checked."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
