from django.contrib import admin

from credits.models import CancellationEvent, CreditNote, CreditNoteLine


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
    """Read-only: credit notes are issued by the cancel operation only."""

    list_display = [
        "number",
        "invoice_number",
        "customer",
        "location",
        "issue_date",
        "total",
        "pdf_status",
    ]
    list_filter = ["location", "issue_date", "pdf_status"]
    list_select_related = ["customer", "location"]
    search_fields = ["number", "invoice_number", "customer__billing_name"]
    show_full_result_count = False
    inlines = [CreditNoteLineInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

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
