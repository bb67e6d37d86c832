from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from coworking.models import Customer, LedgerEntry, Location
from coworking.selectors import customer_balance


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "legal_name",
        "default_currency",
        "invoice_prefix",
        "credit_note_prefix",
    ]
    search_fields = ["name", "legal_name", "tax_id"]


class LedgerEntryInline(admin.TabularInline):
    """The customer's account, newest first; read-only because the ledger is append-only."""

    model = LedgerEntry
    fields = ["created_at", "kind", "description", "amount"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    show_change_link = False
    verbose_name_plural = _("ledger (newest first)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "payment", "credit_note")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["billing_name", "kind", "location", "billing_email", "language"]
    list_filter = ["location", "kind", "language"]
    list_select_related = ["location"]
    search_fields = ["billing_name", "billing_email", "tax_id"]
    raw_id_fields = ["portal_user"]
    readonly_fields = ["balance"]
    inlines = [LedgerEntryInline]

    @admin.display(description=_("balance (negative = credit held)"))
    def balance(self, obj):
        if obj.pk is None:
            return "-"
        balances = customer_balance(customer=obj)
        return ", ".join(str(amount) for amount in balances.values()) or "0.00"
