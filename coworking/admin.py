from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db import connection
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from sequences.models import Sequence

from coworking.banking.admin import BankAccountInline
from coworking.l10n import human_number, plain_number
from coworking.models import Customer, ExchangeRate, LedgerEntry, Location
from coworking.money import money_html
from coworking.pagination import LargeTablePaginator
from coworking.registry import customer_has_registered_documents, ledger_source
from coworking.selectors import (
    customer_balance,
    customer_ledger,
    customers_with_balances,
    location_has_documents,
    with_running_balance,
)

# The product, not "Django administration", in the header and every page title. No "View
# site" link: there is no public site (the API documents itself at /api/v1/docs/). No
# navigation sidebar: the lists need the width (the home page lists every model).
admin.site.site_header = _("Coworking back-office")
admin.site.site_title = _("Coworking back-office")
admin.site.index_title = _("Finance")
admin.site.site_url = None
admin.site.enable_nav_sidebar = False


def money_display(field: str, description, *, ordering: str | None = None, price: bool = False):
    """A model admin column or read-only field showing the money ``field`` the project's one
    way (``coworking.money.money_html``): ``total_display = money_display("total", _("total"))``
    then ``"total_display"`` in ``list_display``, ``fields`` or ``readonly_fields``."""

    @admin.display(description=description, ordering=ordering or field)
    def display(model_admin, obj):
        value = getattr(obj, field, None)
        return "-" if value is None else money_html(value, price=price)

    return display


def number_display(field: str, description, *, percent: bool = False):
    """A column or read-only field showing the quantity or rate ``field`` the project's one
    way (``coworking.l10n.format_number``): ``1.5`` rather than the field's ``1.500``
    (which a French or Dutch reader takes for one thousand and five hundred)."""

    @admin.display(description=description, ordering=field)
    def display(model_admin, obj):
        value = getattr(obj, field, None)
        return "-" if value is None else human_number(value, percent=percent)

    return display


class LanguageDateInput(forms.DateInput):
    """A date box in the admin language's own format (``07/12/2026``, ``07-12-2026``), not
    the browser's ``type="date"`` box, which follows the browser's locale (an en-US browser
    showed ``12/07/2026`` above a ledger reading ``07/12/2026``). ISO dates are read too."""

    def __init__(self):
        super().__init__(attrs={"size": 10, "required": True, "autocomplete": "off"})


class PlainNumberInput(forms.NumberInput):
    """A quantity or rate input showing its value without trailing zeros (``1.5``, not
    the field's ``1.500``, which a Dutch reader takes for fifteen hundred)."""

    def format_value(self, value):
        if isinstance(value, Decimal):
            return plain_number(value)
        return super().format_value(value)


class InputFilter(admin.SimpleListFilter):
    """A list filter typed into a box (a name, an amount) rather than picked from a list of
    choices that would be as long as the table. Subclasses set ``title``,
    ``parameter_name`` and ``queryset`` (and may give the box a ``placeholder()``). A value
    they cannot use is best said in an admin message, the text left in the box; raising
    ``IncorrectLookupParameters`` instead resets the list and clears the box (``?e=1``)."""

    template = "admin/input_filter.html"

    def placeholder(self) -> str:
        return ""

    def lookups(self, request, model_admin):
        return ((None, None),)  # a filter without lookups is not shown at all

    def choices(self, changelist):
        # One "choice": the rest of the query string (other filters, search, ordering) as the
        # form's hidden fields, so typing here keeps them.
        yield {
            "value": self.value() or "",
            "placeholder": self.placeholder(),
            "query_parts": [
                (key, value)
                for key, values in changelist.filter_params.items()
                if key != self.parameter_name
                for value in values
            ],
            "remove_url": changelist.get_query_string(remove=[self.parameter_name]),
        }


class ListTitleMixin:
    """A list is titled by what it lists ("Invoices"), not "Select invoice to change"."""

    def changelist_view(self, request, extra_context=None):
        title = capfirst(self.opts.verbose_name_plural)
        return super().changelist_view(request, {"title": title, **(extra_context or {})})


if TYPE_CHECKING:
    AdminMixinBase = admin.ModelAdmin[Any]
else:
    AdminMixinBase = object
"""The base of a model admin mixin: ``ModelAdmin`` for the type checker, nothing at run time."""


class IndexedSearchMixin(AdminMixinBase):
    """The admin's search, shaped so that each search field's index answers it.

    Django ORs the search fields in one ``WHERE`` over a join (``number ILIKE … OR
    customer.billing_name ILIKE …``): no index can answer an OR that spans two tables, so
    PostgreSQL reads the whole document table. Here each term is the union of one query per
    field (each answered by its trigram index, made by the initial migrations) and the list keeps the
    rows whose id is in it: the same rows as Django's search, found through the indexes.
    Elsewhere (SQLite) Django's own search runs."""

    LOOKUPS = {"^": "istartswith", "=": "iexact"}

    def get_search_results(self, request, queryset, search_term):
        if connection.vendor != "postgresql" or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        model = queryset.model
        found = None
        for term in smart_split(search_term):
            if term[:1] in "\"'" and term[0] == term[-1] and len(term) > 1:
                term = unescape_string_literal(term)
            ids = None
            for field in self.get_search_fields(request):
                lookup = self.LOOKUPS.get(field[:1], "icontains")
                name = field.lstrip("^=")
                matches = model._default_manager.filter(**{f"{name}__{lookup}": term})
                matches = matches.order_by().values("pk")
                ids = matches if ids is None else ids.union(matches)
            # Several terms: one INTERSECT of their unions, not one ``IN`` per term. Each
            # ``IN`` is estimated at a few rows, so the planner would join the second to the
            # first in a nested loop, comparing every id of a big customer's two-word name
            # with every other (docs/benchmarks.md, "10k, 100k and 1M side by side").
            found = ids if found is None else found.intersection(ids)
        if found is not None:
            queryset = queryset.filter(pk__in=found)
        return queryset, False


class ChangePageMixin(AdminMixinBase):
    """One hook for what a change page shows around its form (the object's tools: links,
    buttons, banners), in the spirit of the admin's ``object_tools`` block.

    ``change_page_context(request, obj)`` returns that part of the template context; an
    admin, or a higher app's subclass or mixin, extends it with ``super()``. The object is
    fetched once per request: Django's own change view is handed the same instance, so
    extensions never read it again."""

    def change_page_context(self, request, obj) -> dict:
        return {}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        request._change_page_object = (unquote(object_id), obj)
        context = self.change_page_context(request, obj) if obj is not None else {}
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    def get_object(self, request, object_id, from_field=None):
        fetched = getattr(request, "_change_page_object", None)
        if fetched is not None and from_field is None and fetched[0] == object_id:
            return fetched[1]
        return super().get_object(request, object_id, from_field)


class ReadOnlyAdminMixin(ListTitleMixin):
    """For a model admin or inline of records only services write (credit notes, audit
    events, payments once recorded): staff see them and never add, change or delete one
    through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@dataclass(frozen=True)
class RenderTexts:
    """What the admin says after rendering PDFs, in the words of one kind of document:
    ``rendered`` and ``more_missing`` are ``ngettext_lazy(..., "count")``."""

    all_ready: str
    rendered: str
    more_missing: str


ADMIN_RENDER_LIMIT = 50  # PDFs rendered by one run of an admin action (a fraction of a second each)


def render_pdfs_in_request(model_admin, request, *, missing: list, render_pdfs, texts: RenderTexts):
    """Render, in this request, the PDFs of ``missing`` (documents whose PDF is pending or
    failed), at most ``ADMIN_RENDER_LIMIT``, with ``render_pdfs(documents)`` (a
    ``RenderReport``); report what was rendered, each failure with its reason, and what is
    left for another run."""
    if not missing:
        model_admin.message_user(request, texts.all_ready, messages.INFO)
        return
    batch = missing[:ADMIN_RENDER_LIMIT]
    report = render_pdfs(batch)
    if report.rendered:
        count = len(report.rendered)
        model_admin.message_user(request, texts.rendered % {"count": count}, messages.SUCCESS)
    for number, reason in sorted(report.failed.items()):
        model_admin.message_user(
            request,
            _("The PDF of %(number)s failed: %(reason)s") % {"number": number, "reason": reason},
            messages.ERROR,
        )
    if len(missing) > len(batch):
        count = len(missing) - len(batch)
        model_admin.message_user(request, texts.more_missing % {"count": count}, messages.WARNING)


class SequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The counters of the number series (django-sequences), read-only: a counter changed by
    hand would leave a gap or a duplicate in a location's numbers."""

    list_display = ["name", "last"]
    search_fields = ["name"]


admin.site.unregister(Sequence)  # django-sequences' own admin lets a superuser edit counters
admin.site.register(Sequence, SequenceAdmin)


@admin.register(Location)
class LocationAdmin(ListTitleMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "legal_name",
        "default_currency",
        "invoice_prefix",
        "credit_note_prefix",
    ]
    search_fields = ["name", "legal_name", "tax_id"]
    inlines = [BankAccountInline]
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
                "fields": [
                    "siret", "rcs_city", "share_capital", "late_payment_rate",
                    "early_payment_discount", "vat_on_debits",
                ],
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
                    "credit_note_prefix", "language", "email_documents", "members_may_cancel",
                    "opted_to_tax",
                ]
            },
        ),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # A prefix printed on a document never changes: its numbers must stay unique.
        if obj is not None and location_has_documents(location=obj):
            return ["invoice_prefix", "credit_note_prefix"]
        return []


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ListTitleMixin, admin.ModelAdmin):
    """Rates for stating the VAT of invoices outside their location's VAT currency."""

    list_display = ["date", "currency", "vat_currency", "rate_display", "source"]
    list_filter = ["currency", "vat_currency"]
    date_hierarchy = "date"
    rate_display = number_display("rate", _("rate"))


LEDGER_PAGE_SIZE = 25


def ledger_page_number(value: str | None) -> int:
    """The ledger page asked for (``?ledger_page=N``): the first for anything but a whole
    number from 1."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def account_figures_html(customer: Customer, figure: str) -> str:
    """One of a customer's account figures annotated on the list (``balance``, ``credit``),
    one amount a line: the billing currency's always, first; another currency's only where
    it is not zero. Currencies are never added up."""
    billing = customer.location.default_currency
    amounts = [Money(getattr(customer, f"billing_{figure}"), billing)]
    for currency in settings.CURRENCIES:
        value = getattr(customer, f"{figure}_{currency.lower()}", None)
        if currency != billing and value:
            amounts.append(Money(value, currency))
    return format_html_join(mark_safe("<br>"), "{}", ((money_html(amount),) for amount in amounts))


class CustomerChangeList(ChangeList):
    """Sorting by an account figure sorts within each billing currency: customers billed in
    different currencies are grouped by currency (in code order), never compared as
    numbers."""

    billing_figures = {"billing_balance", "billing_credit"}

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        for index, part in enumerate(ordering):
            if isinstance(part, str) and part.lstrip("-") in self.billing_figures:
                return [*ordering[:index], "location__default_currency", *ordering[index:]]
        return ordering


@admin.register(Customer)
class CustomerAdmin(ChangePageMixin, IndexedSearchMixin, ListTitleMixin, admin.ModelAdmin):
    """Customers, each shown as an account: its balance per currency, and its ledger by
    document date, newest first, with the running balance after each entry (invoices,
    payments, credit notes, refunds and credit settled outside); then its details. The location of a customer never changes (its documents are the location's),
    and a customer with documents is never deleted (the database protects them), so neither
    is offered. ``invoicing.admin`` extends this page with the available credit, the credit
    applied to invoices and the printable statement.

    The ledger is a paginated section of the change page (``?ledger_page=N``) rather than
    an inline: an inline would load every entry of a long-standing customer at once.

    The list shows each customer's balance (and, from ``invoicing.admin``, the available
    credit), computed by the list's one query. A customer is billed in their location's
    default currency; the figure in that currency is always shown, first, and is what the
    column sorts by, within each billing currency (``CustomerChangeList``); a figure in
    another currency (an invoice in US dollars at a euro location) is shown below it where
    it is not zero, and never converted or added to it.
    """

    list_display = [
        "billing_name", "kind", "location", "billing_email", "language", "balance_column",
    ]  # fmt: skip
    show_full_result_count = False
    paginator = LargeTablePaginator
    list_filter = ["location", "kind", "language"]
    list_select_related = ["location"]
    search_fields = ["billing_name", "billing_email", "tax_id"]
    raw_id_fields = ["portal_user"]
    change_form_template = "admin/coworking/customer/change_form.html"
    fieldsets = [
        (None, {"fields": ["location", "kind", "billing_name", "billing_email", "language",
                           "portal_user"]}),
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
        (_("Refunds"), {"fields": ["iban"]}),
        (_("E-invoicing (Peppol)"), {"fields": ["electronic_address_scheme", "electronic_address"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return ["location"] if obj is not None else []

    # --- list -----------------------------------------------------------------------------

    def get_changelist(self, request, **kwargs):
        return CustomerChangeList

    def get_queryset(self, request):
        return self.with_account_figures(super().get_queryset(request))

    def with_account_figures(self, customers):
        """The customers with the account figures the list shows, computed in its one query
        (``invoicing.admin`` adds the available credit)."""
        return customers_with_balances(customers=customers)

    @admin.display(description=_("balance"), ordering="billing_balance")
    def balance_column(self, customer):
        return account_figures_html(customer, "balance")

    # --- detail -----------------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (
            obj.ledger_entries.exists() or customer_has_registered_documents(obj)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def account_currencies(self, customer: Customer) -> list[dict]:
        """One row per currency of the customer's account: its ``currency`` and ``balance``
        (``invoicing.admin`` adds the available credit)."""
        return [
            {"currency": currency, "balance": balance}
            for currency, balance in customer_balance(customer=customer).items()
        ]

    def account_context(self, request, customer: Customer) -> dict:
        """What the account section of the page shows (``invoicing.admin`` adds to it). The
        ledger's pages are never counted (a count reads the customer's whole history): a
        page reads its rows and one more, which tells whether an older page exists."""
        number = ledger_page_number(request.GET.get("ledger_page"))
        start = (number - 1) * LEDGER_PAGE_SIZE
        entries = with_running_balance(customer_ledger(customer=customer))
        rows = list(entries[start : start + LEDGER_PAGE_SIZE + 1])

        def page_url(number):
            query = request.GET.copy()
            query["ledger_page"] = number
            return f"?{query.urlencode()}"

        return {
            "currencies": self.account_currencies(customer),
            "ledger": {
                "number": number,
                "entries": [self._ledger_row(entry) for entry in rows[:LEDGER_PAGE_SIZE]],
                "first_url": page_url(1) if number > 1 else "",
                "previous_url": page_url(number - 1) if number > 1 else "",
                "next_url": page_url(number + 1) if len(rows) > LEDGER_PAGE_SIZE else "",
            },
        }

    def change_page_context(self, request, obj) -> dict:
        return {
            **super().change_page_context(request, obj),
            "account": self.account_context(request, obj),
            "title": _("Customer account"),
        }

    @staticmethod
    def _ledger_row(entry: LedgerEntry) -> dict:
        """The entry with its document (linked where the admin has a page for it) and, for
        payments and refunds, the invoice they concern: what the app that posted it tells
        (``coworking.registry``)."""
        source = ledger_source(entry.kind)
        document, url = source.document(entry) if source else (entry.document_number, "")
        return {
            "entry": entry,
            "balance": Money(entry.running_balance, entry.amount_currency),
            "document": str(document),
            "document_url": reverse(url, args=[document.pk]) if url else "",
            "invoice": source.about(entry) if source else "",
        }


from coworking import admin_billable_items  # noqa: E402, F401  (registers its admin)
