from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coworking.errors import ApplicationError
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.services import LineInput, invoice_draft_set_lines, invoice_issue, payment_record


class InvoiceLineInline(admin.TabularInline):
    """Lines are edited while the invoice is a draft and read-only once it is issued."""

    model = InvoiceLine
    extra = 0
    fields = ["position", "description", "quantity", "unit_price", "tax_rate", "net", "tax"]
    readonly_fields = ["position", "net", "tax"]

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.state != Invoice.State.DRAFT

    def get_readonly_fields(self, request, obj=None):
        return self.fields if self._frozen(obj) else self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["received_on", "amount", "method", "reference"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
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
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["issue_selected"]
    raw_id_fields = ["customer"]

    def get_fields(self, request, obj=None):
        if obj is None or obj.state == Invoice.State.DRAFT:
            return ["location", "customer", "currency"]
        return [
            "number",
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
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.state == Invoice.State.DRAFT:
            return []
        return self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state != Invoice.State.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

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


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Payments are recorded through ``payment_record`` and never edited afterwards."""

    list_display = ["invoice", "amount", "method", "received_on", "reference"]
    list_filter = ["method", "received_on"]
    list_select_related = ["invoice"]
    search_fields = ["invoice__number", "reference"]
    raw_id_fields = ["invoice"]
    fields = ["invoice", "amount", "method", "received_on", "reference"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            form.instance = payment_record(
                invoice=obj.invoice,
                amount=obj.amount,
                method=obj.method,
                received_on=obj.received_on,
                reference=obj.reference,
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
