"""The invoice admin: drafts are edited and issued here, issued invoices are read-only,
payments are recorded through ``payment_record``.

Cancelling is the credits app's: ``credits.admin`` extends ``InvoiceAdmin`` with the cancel
workflow and registers the extended admin in its place.
"""

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coworking.admin import ReadOnlyAdminMixin
from coworking.einvoice.admin import EInvoiceDownloads
from coworking.errors import ApplicationError
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.services import (
    LineInput,
    invoice_draft_set_lines,
    invoice_issue,
    payment_check,
    payment_record,
)


class LargeTablePaginator(Paginator):
    """Counts exactly, except the unfiltered list of a huge table: there the planner's row
    estimate (``pg_class.reltuples``) replaces a full ``COUNT(*)`` that would scan it all.

    The page count may then be slightly off; filtered lists (search, filters) count exactly.
    """

    estimate_above = 100_000

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.estimate_above:
                return row[0]
        return super().count


class InvoiceLineInline(admin.TabularInline):
    """Lines are edited while the invoice is a draft and read-only once it is issued."""

    model = InvoiceLine
    extra = 0
    fields = [
        "position", "description", "quantity", "unit_price", "tax_rate", "net", "tax",
        "vat_category", "vat_exemption_reason", "vat_exemption_reason_code",
        "period_start", "period_end",
    ]  # fmt: skip
    readonly_fields = ["position", "net", "tax"]

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.state != Invoice.State.DRAFT

    def get_readonly_fields(self, request, obj=None):
        return self.fields if self._frozen(obj) else self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["received_on", "amount", "method", "reference"]
    readonly_fields = fields


@admin.register(Invoice)
class InvoiceAdmin(EInvoiceDownloads, admin.ModelAdmin):
    list_display = [
        "number_column",
        "customer",
        "location",
        "issue_date",
        "total",
        "amount_paid",
        "state",
    ]
    list_filter = ["state", "location", "currency", "issue_date"]
    list_select_related = ["customer", "location"]
    search_fields = ["number", "customer__billing_name", "customer__billing_email"]
    date_hierarchy = "issue_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a COUNT per filter choice: not on huge tables
    paginator = LargeTablePaginator
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["issue_selected"]
    raw_id_fields = ["customer"]
    change_list_template = "admin/invoicing/invoice/change_list.html"

    # --- list -----------------------------------------------------------------------------

    @admin.display(description=_("invoice"), ordering="number")
    def number_column(self, obj):
        return str(obj)

    # --- detail -----------------------------------------------------------------------------

    def get_fields(self, request, obj=None):
        if obj is None or obj.state == Invoice.State.DRAFT:
            return ["location", "customer", "currency", "buyer_reference", "order_reference"]
        return [
            "number",
            "einvoice_links",
            "state",
            "location",
            "customer",
            "currency",
            "issue_date",
            "due_date",
            "net_total",
            "tax_total",
            "total",
            "amount_paid",
            "cancelled_at",
            "cancelled_by",
            "cancellation_channel",
            "cancellation_reason",
            "buyer_reference",
            "order_reference",
            "vat_currency",
            "vat_exchange_rate",
            "tax_total_vat_currency",
        ]

    def einvoice_xml(self, obj, syntax):
        return invoice_einvoice(invoice=obj, syntax=syntax)

    def has_einvoice(self, obj) -> bool:
        return obj.state != Invoice.State.DRAFT

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.state == Invoice.State.DRAFT:
            return []
        return self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state != Invoice.State.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        # An issued invoice is never edited: its page is a read-only view (with "Cancel").
        if obj is not None and obj.state != Invoice.State.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if obj.pk is None:
            obj.net_total = obj.tax_total = obj.total = obj.amount_paid = 0
            for field in ("net_total", "tax_total", "total", "amount_paid"):
                setattr(obj, f"{field}_currency", obj.currency)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not InvoiceLine:
            return super().save_formset(request, form, formset, change)
        invoice = form.instance
        if invoice.state != Invoice.State.DRAFT:
            return None
        lines = [
            LineInput(
                description=f.cleaned_data["description"],
                quantity=f.cleaned_data["quantity"],
                unit_price=f.cleaned_data["unit_price"],
                tax_rate=f.cleaned_data["tax_rate"],
                vat_category=f.cleaned_data.get("vat_category") or None,
                vat_exemption_reason=f.cleaned_data.get("vat_exemption_reason", ""),
                vat_exemption_reason_code=f.cleaned_data.get("vat_exemption_reason_code", ""),
                period_start=f.cleaned_data.get("period_start"),
                period_end=f.cleaned_data.get("period_end"),
            )
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if lines:
            try:
                invoice_draft_set_lines(invoice=invoice, lines=lines)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
        return None

    # --- actions ----------------------------------------------------------------------------

    @admin.action(description=_("Issue selected drafts"), permissions=["change"])
    def issue_selected(self, request, queryset):
        issued = 0
        for invoice in queryset.filter(state=Invoice.State.DRAFT).order_by("pk"):
            try:
                invoice_issue(invoice=invoice)
                issued += 1
            except ApplicationError as error:
                self.message_user(request, f"{invoice}: {error.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d invoice issued.", "%(count)d invoices issued.", issued)
            % {"count": issued},
            messages.SUCCESS,
        )


class PaymentForm(forms.ModelForm):
    """Applies the service's own payment rules, so a refusal is a form error, not a crash."""

    # "Account credit" applies credit the customer holds (never more than held or due).
    method = forms.ChoiceField(choices=Payment.Method.choices)

    class Meta:
        model = Payment
        fields = ["invoice", "amount", "method", "received_on", "reference"]

    def clean(self):
        data = super().clean()
        invoice, amount, method = data.get("invoice"), data.get("amount"), data.get("method")
        if invoice is not None and amount is not None and method:
            try:
                payment_check(invoice=invoice, amount=amount, method=method)
            except ApplicationError as error:
                raise forms.ValidationError(error.message, code=error.code) from None
        return data


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Payments are recorded through ``payment_record`` and never edited afterwards."""

    form = PaymentForm
    list_display = ["invoice", "amount", "method", "received_on", "reference"]
    list_filter = ["method", "received_on"]
    list_select_related = ["invoice"]
    search_fields = ["invoice__number", "reference"]
    raw_id_fields = ["invoice"]
    fields = ["invoice", "amount", "method", "received_on", "reference"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form checked the rules; the service checks them again under the invoice lock.
        # Losing that race (another payment in between) is reported, nothing is written.
        try:
            payment = payment_record(
                invoice=obj.invoice,
                amount=obj.amount,
                method=obj.method,
                received_on=obj.received_on,
                reference=obj.reference,
            )
        except ApplicationError as error:
            request._payment_refused = error.message
            return
        obj.pk = payment.pk

    def response_add(self, request, obj, post_url_continue=None):
        refused = getattr(request, "_payment_refused", None)
        if refused:
            self.message_user(request, refused, messages.ERROR)
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)
