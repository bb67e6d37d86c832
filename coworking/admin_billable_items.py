"""The price list's admin: billable items per location, with their supply kind."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from coworking.admin import ListTitleMixin, money_display, number_display
from coworking.billable_items import BillableItem


@admin.register(BillableItem)
class BillableItemAdmin(ListTitleMixin, admin.ModelAdmin):
    """Items are retired (``active``), never deleted once an invoice line names them."""

    list_display = ["name", "location", "supply_kind", "unit_price_display", "tax_rate_display"]
    list_filter = ["location", "supply_kind", "active"]
    search_fields = ["name"]
    fields = ["location", "name", "supply_kind", "unit_price", "tax_rate", "active"]
    unit_price_display = money_display("unit_price", _("unit price"))
    tax_rate_display = number_display("tax_rate", _("own tax rate"), percent=True)
