"""Refunds and credit settled outside (read-only: the ledger holds their debits)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from coworking.admin import ReadOnlyAdminMixin, money_display
from credits.models import Refund


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money paid back and credit settled outside, as recorded by ``refund_record`` or by a
    credit note (read-only: the ledger holds their debits)."""

    list_display = ["created_at", "customer", "kind", "amount_display", "credit_note", "reference"]
    list_filter = ["kind", "channel"]
    list_select_related = ["customer", "credit_note"]
    search_fields = ["customer__billing_name", "reference", "credit_note__number"]
    amount_display = money_display("amount", _("amount"))
