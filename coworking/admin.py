from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from coworking.models import Customer, ExchangeRate, LedgerEntry, Location
from coworking.selectors import customer_balance, customer_ledger


class ReadOnlyAdminMixin:
    """For a model admin or inline of records only services write (credit notes, audit
    events, payments once recorded): staff see them and never add, change or delete one
    through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    fieldsets = [
        (None, {"fields": ["name", "legal_name"]}),
        (
            _("Address"),
            {"fields": ["street_line1", "street_line2", "street_line3", "postcode", "city", "country"]},
        ),
        (
            _("Identifiers printed on documents"),
            {
                "fields": ["tax_id", "registration_id", "legal_form"],
                "description": _("Every invoice states the VAT id; the legal registration id "
                                 "too (and alone on invoices outside the scope of VAT)."),
            },
        ),
        (
            _("France"),
            {
                "fields": ["siret", "rcs_city", "share_capital"],
                "description": _("Required when the location is in France: the registration id "
                                 "is then its SIREN."),
            },
        ),
        (_("E-invoicing (Peppol)"), {"fields": ["electronic_address_scheme", "electronic_address"]}),
        (
            _("Billing"),
            {
                "fields": [
                    "default_currency", "vat_currency", "default_tax_rate", "invoice_prefix",
                    "credit_note_prefix", "email_documents", "members_may_cancel",
                ]
            },
        ),
    ]  # fmt: skip


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Rates for stating the VAT of invoices outside their location's VAT currency."""

    list_display = ["date", "currency", "vat_currency", "rate", "source"]
    list_filter = ["currency", "vat_currency"]
    date_hierarchy = "date"


LEDGER_PAGE_SIZE = 25


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Customers, with their balance per currency and their ledger, newest first.

    The ledger is a paginated section of the change page (``?ledger_page=N``) rather than
    an inline: an inline would load every entry of a long-standing customer at once.
    """

    list_display = ["billing_name", "kind", "location", "billing_email", "language"]
    list_filter = ["location", "kind", "language"]
    list_select_related = ["location"]
    search_fields = ["billing_name", "billing_email", "tax_id"]
    raw_id_fields = ["portal_user"]
    readonly_fields = ["balance"]
    change_form_template = "admin/coworking/customer/change_form.html"
    fieldsets = [
        (None, {"fields": ["location", "kind", "billing_name", "billing_email", "language",
                           "portal_user", "balance"]}),
        (
            _("Billing address"),
            {
                "fields": ["street_line1", "street_line2", "street_line3", "postcode", "city", "country"],
                "description": _("The country at least; a company's full address."),
            },
        ),
        (
            _("Identifiers and references"),
            {
                "fields": ["tax_id", "registration_id", "buyer_reference"],
                "description": _("The VAT id is required for reverse-charge invoices."),
            },
        ),
        (_("E-invoicing (Peppol)"), {"fields": ["electronic_address_scheme", "electronic_address"]}),
    ]  # fmt: skip

    @admin.display(description=_("balance (negative = credit held)"))
    def balance(self, obj):
        if obj.pk is None:
            return "-"
        balances = customer_balance(customer=obj)
        if not balances:
            return "0.00"
        return format_html_join(
            mark_safe("<br>"),
            '<span class="balance" data-currency="{}">{} {}</span>',
            ((m.currency, m.amount, m.currency) for m in balances.values()),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        customer = self.get_object(request, unquote(object_id))
        if customer is not None:
            paginator = Paginator(customer_ledger(customer=customer), LEDGER_PAGE_SIZE)
            page = paginator.get_page(request.GET.get("ledger_page"))

            def page_url(number):
                query = request.GET.copy()
                query["ledger_page"] = number
                return f"?{query.urlencode()}"

            extra_context["ledger"] = {
                "page": page,
                "entries": [self._ledger_row(entry) for entry in page],
                "first_url": page_url(1) if page.number > 1 else "",
                "previous_url": page_url(page.number - 1) if page.has_previous() else "",
                "next_url": page_url(page.number + 1) if page.has_next() else "",
                "last_url": (
                    page_url(paginator.num_pages) if page.number < paginator.num_pages else ""
                ),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _ledger_row(entry: LedgerEntry) -> dict:
        if entry.credit_note_id:
            document, url = entry.credit_note, "admin:credits_creditnote_change"
        elif entry.payment_id:
            document, url = entry.payment, "admin:invoicing_payment_change"
        else:
            document, url = entry.invoice, "admin:invoicing_invoice_change"
        return {
            "entry": entry,
            "document": str(document),
            "document_url": reverse(url, args=[document.pk]),
            "invoice": str(entry.invoice) if entry.payment_id else "",
        }
