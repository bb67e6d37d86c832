"""The invoice admin: drafts are edited and issued here, issued invoices are read-only.

Cancelling and crediting are the credits app's: ``credits.admin`` extends ``InvoiceAdmin``
with those workflows and registers the extended admin in its place.
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, DecimalField, Exists, F, OuterRef, Value, When
from django.db.models.functions import Greatest
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from coworking.admin import (
    ChangePageMixin,
    IndexedSearchMixin,
    ListTitleMixin,
    PlainNumberInput,
    ReadOnlyAdminMixin,
    RenderTexts,
    money_display,
    number_display,
    render_pdfs_in_request,
)
from coworking.einvoice.admin import EInvoiceDownloads
from coworking.errors import ApplicationError
from coworking.money import MAX_DIGITS, exact_money, money_html
from coworking.pagination import LargeTablePaginator
from invoicing.admin.filters import (
    OPEN_STATES,
    AmountDueAtLeastFilter,
    CustomerFilter,
    OverdueFilter,
)
from invoicing.documents import INVOICE_DOCUMENT
from invoicing.einvoice import invoice_einvoice
from invoicing.line_form import AllowanceChargeForm, InvoiceLineForm
from invoicing.models import Invoice, InvoiceAllowanceCharge, InvoiceLine, Payment
from invoicing.selectors import has_document_allowances
from invoicing.services.drafts import invoice_draft_set_lines
from invoicing.services.issue import invoice_issue

_DISPLAYED = {"unit_price", "quantity", "tax_rate"}


class _LinesFormSet(BaseInlineFormSet):
    """An issued invoice's lines as ``InvoiceLineInline`` already read them (to choose its
    columns), not read a second time."""

    def get_queryset(self):
        return getattr(self.instance, "_shown_lines", None) or super().get_queryset()


class InvoiceLineInline(admin.TabularInline):
    """Lines are edited while the invoice is a draft and read-only once it is issued."""

    model = InvoiceLine
    form = InvoiceLineForm
    formset = _LinesFormSet
    extra = 0
    fields = [
        "position", "billable_item", "description", "quantity", "unit_price", "tax_rate",
        "net_display", "tax_display", "vat_category", "vat_exemption_reason",
        "vat_exemption_reason_code", "vat_override_reason", "period_start", "period_end",
        "allowance", "allowance_percent", "allowance_reason", "allowance_reason_code",
    ]  # fmt: skip
    readonly_fields = ["position", "net_display", "tax_display"]
    optional_fields = [
        "vat_exemption_reason", "vat_exemption_reason_code", "vat_override_reason",
        "period_start", "period_end",
        "allowance", "allowance_percent", "allowance_reason", "allowance_reason_code",
    ]  # fmt: skip
    # Issued: every field read-only, the unit price shown as money, quantity and rate the
    # project's one way.
    frozen_fields = [f"{name}_display" if name in _DISPLAYED else name for name in fields]
    unit_price_display = money_display("unit_price", _("unit price"), price=True)
    quantity_display = number_display("quantity", _("quantity"))
    tax_rate_display = number_display("tax_rate", _("tax rate"), percent=True)
    net_display = money_display("net", _("net"))
    tax_display = money_display("tax", _("tax"))

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.state != Invoice.State.DRAFT

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("quantity", "tax_rate", "allowance", "allowance_percent"):
            kwargs["widget"] = PlainNumberInput(attrs={"step": "any"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        if not self._frozen(obj):
            return self.fields
        return [name for name in self.frozen_fields if name in self._filled_columns(obj)]

    def _filled_columns(self, obj) -> set[str]:
        """An issued invoice's columns without the optional ones empty on every line (no
        exemption, override, period or discount): eighteen columns do not fit 1280 pixels.
        The lines are read once, kept on the invoice for the formset."""
        if not hasattr(obj, "_filled_line_columns"):
            obj._shown_lines = list(obj.lines.all())
            obj._filled_line_columns = set(self.frozen_fields) - {
                name
                for name in self.optional_fields
                if not any(getattr(line, name) for line in obj._shown_lines)
            }
        return obj._filled_line_columns

    def get_readonly_fields(self, request, obj=None):
        return self.frozen_fields if self._frozen(obj) else self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class AllowanceChargeInline(admin.TabularInline):
    """Discounts and charges on the whole invoice (EN 16931 BG-20/BG-21), saved with the
    lines by the same service; read-only once issued."""

    model = InvoiceAllowanceCharge
    form = AllowanceChargeForm
    extra = 0
    fields = [
        "kind", "amount", "percent", "vat_category", "tax_rate", "reason", "reason_code",
    ]  # fmt: skip
    frozen_fields = [
        "kind", "amount_display", "percent", "vat_category", "tax_rate", "reason", "reason_code",
    ]  # fmt: skip
    amount_display = money_display("amount", _("amount"))

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.state != Invoice.State.DRAFT

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("percent", "tax_rate"):
            kwargs["widget"] = PlainNumberInput(attrs={"step": "any"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        return self.frozen_fields if self._frozen(obj) else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.frozen_fields if self._frozen(obj) else []

    def has_view_permission(self, request, obj=None):
        """The discounts are part of the invoice: whoever may view it sees them."""
        return request.user.has_perm("invoicing.view_invoice") or super().has_view_permission(
            request, obj
        )

    def has_view_or_change_permission(self, request, obj=None):
        """An issued invoice without discounts or charges shows no empty table of them: the
        admin leaves out an inline the user may neither view nor change."""
        if self._frozen(obj) and not has_document_allowances(invoice=obj):
            return False
        return super().has_view_or_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["received_on", "amount_display", "method", "reference"]
    readonly_fields = fields
    amount_display = money_display("amount", _("amount"))


RENDER_TEXTS = RenderTexts(
    all_ready=_("The selected invoices all have their PDF (or are drafts)."),
    rendered=ngettext_lazy(
        "Rendered the PDF of %(count)d invoice.",
        "Rendered the PDFs of %(count)d invoices.",
        "count",
    ),
    more_missing=ngettext_lazy(
        "%(count)d more invoice is missing its PDF: run the action again.",
        "%(count)d more invoices are missing their PDF: run the action again.",
        "count",
    ),
)


@admin.register(Invoice)
class InvoiceAdmin(
    ChangePageMixin, IndexedSearchMixin, ListTitleMixin, EInvoiceDownloads, admin.ModelAdmin
):
    """Invoices. The list fits a 1280-pixel screen: number, customer, dates, total, amount
    due and state (and, in ``credits.admin``, the row action); the location is in the number's
    prefix and in the filters."""

    list_display = [
        "number_column",
        "customer",
        "issue_date",
        "due_date",
        "total_column",
        "amount_due_column",
        "state",
    ]
    list_filter = [
        "state",
        OverdueFilter,
        CustomerFilter,
        "location",
        AmountDueAtLeastFilter,
        "currency",
        "issue_date",
    ]
    list_select_related = ["customer", "location"]
    search_fields = [
        "number", "customer__billing_name", "customer__billing_email", "payment_reference",
    ]  # fmt: skip
    date_hierarchy = "issue_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a COUNT per filter choice: not on huge tables
    paginator = LargeTablePaginator
    inlines = [InvoiceLineInline, AllowanceChargeInline, PaymentInline]
    actions = ["issue_selected", "render_pdf_again"]
    raw_id_fields = ["customer"]
    change_list_template = "admin/invoicing/invoice/change_list.html"

    # --- list -----------------------------------------------------------------------------

    def get_queryset(self, request):
        # What is still due (``Invoice.amount_due``: total − paid − credited, never below
        # zero), for the amount-due column's ordering and filter; rounded to the cent in the
        # database so the filter compares exactly on SQLite too.
        money = DecimalField(max_digits=MAX_DIGITS, decimal_places=2)
        due = Greatest(
            exact_money(F("total") - F("amount_paid") - F("amount_credited")),
            Value(Decimal("0.00")),
            output_field=money,
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                amount_due_value=Case(
                    When(state__in=OPEN_STATES, then=due),
                    default=Value(Decimal("0.00")),
                    output_field=money,
                ),
                # Read by the discounts inline and credits' partial-credit policy.
                has_document_allowances=Exists(
                    InvoiceAllowanceCharge.objects.filter(invoice_id=OuterRef("pk"))
                ),
            )
        )

    @admin.display(description=_("invoice"), ordering="number")
    def number_column(self, obj):
        return str(obj)

    @admin.display(description=_("total"), ordering="total")
    def total_column(self, obj):
        """A draft's total is computed from its current lines: marked as such."""
        if obj.state == Invoice.State.DRAFT:
            return format_html(
                '{} <span class="draft-mark" title="{}">{}</span>',
                money_html(obj.total),
                _("Computed from the draft's lines; final when issued."),
                _("draft"),
            )
        return money_html(obj.total)

    @admin.display(description=_("amount due"), ordering="amount_due_value")
    def amount_due_column(self, obj):
        if obj.state == Invoice.State.DRAFT:
            return "-"
        return money_html(obj.amount_due)

    # --- detail -----------------------------------------------------------------------------

    net_total_display = money_display("net_total", _("net total"))
    tax_total_display = money_display("tax_total", _("tax total"))
    total_display = money_display("total", _("total"))
    vat_exchange_rate_display = number_display(
        "vat_exchange_rate", _("exchange rate to the VAT currency")
    )
    amount_paid_display = money_display("amount_paid", _("paid"))
    amount_credited_display = money_display("amount_credited", _("credited"))
    cancellation_fields = [
        "cancelled_at", "cancelled_by", "cancellation_channel", "cancellation_reason",
    ]  # fmt: skip
    vat_currency_fields = ["vat_currency", "vat_exchange_rate_display", "tax_total_vat_currency"]
    amount_due_display = money_display("amount_due", _("amount due"), ordering="")

    @admin.display(description=_("totals"))
    def draft_totals(self, obj):
        return format_html(
            "{} + {} = <strong>{}</strong> ({})",
            money_html(obj.net_total),
            money_html(obj.tax_total),
            money_html(obj.total),
            _("net + tax = total, computed from the draft's lines; final when issued"),
        )

    def get_fields(self, request, obj=None):
        draft_fields = ["location", "customer", "currency", "buyer_reference", "order_reference"]
        if obj is None:
            return draft_fields
        if obj.state == Invoice.State.DRAFT:
            return [*draft_fields, "draft_totals"]
        # Only what this invoice has: the cancellation on a cancelled one, the VAT in
        # another currency when it was converted, references and a PDF error when there are.
        cancelled = obj.state == Invoice.State.CANCELLED
        return [
            "number",
            "einvoice_links",
            "state",
            "location",
            "customer",
            "currency",
            "issue_date",
            "due_date",
            "net_total_display",
            "tax_total_display",
            "total_display",
            "amount_paid_display",
            "amount_credited_display",
            "amount_due_display",
            *(self.cancellation_fields if cancelled else ()),
            *(["buyer_reference"] if obj.buyer_reference else ()),
            *(["order_reference"] if obj.order_reference else ()),
            *(["payment_reference"] if obj.payment_reference else ()),
            *(self.vat_currency_fields if obj.vat_exchange_rate is not None else ()),
            "pdf_status",
            *(["pdf_error"] if obj.pdf_error else ()),
        ]

    def einvoice_xml(self, obj, syntax):
        return invoice_einvoice(invoice=obj, syntax=syntax)

    def has_einvoice(self, obj) -> bool:
        return obj.state != Invoice.State.DRAFT

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.state == Invoice.State.DRAFT:
            return ["draft_totals"]
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

    def save_related(self, request, form, formsets, change):
        """The lines and the discounts and charges are written by one service call, not by
        their formsets (the admin's change message reads what a formset saved)."""
        form.save_m2m()
        invoice = form.instance
        kept: dict[type, list] = {}
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            kept[formset.model] = [
                f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
        if invoice.state != Invoice.State.DRAFT:
            return
        lines = [f.line_input() for f in kept.get(InvoiceLine, [])]
        rows = (
            [f.allowance_input() for f in kept[InvoiceAllowanceCharge]]
            if InvoiceAllowanceCharge in kept
            else None  # not on the form: kept as they are
        )
        if lines:
            try:
                invoice_draft_set_lines(invoice=invoice, lines=lines, allowance_charges=rows)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)

    # --- the invoice page's everyday actions ------------------------------------------------

    def change_page_context(self, request, obj) -> dict:
        """The invoice page offers what is done next: **Issue** on a draft, and on an issued
        invoice its PDF and **Record payment** (the payment form opens on its number)."""
        context = super().change_page_context(request, obj)
        if obj.state == Invoice.State.DRAFT:
            if super().has_change_permission(request, obj):
                context["issue_url"] = reverse("admin:invoicing_invoice_issue", args=[obj.pk])
        else:
            context["pdf_url"] = reverse("api:invoice-pdf", kwargs={"pk": obj.pk})
            if obj.state in OPEN_STATES and request.user.has_perm("invoicing.add_payment"):
                context["record_payment_url"] = (
                    reverse("admin:invoicing_payment_add")
                    + "?"
                    + urlencode({"invoice": obj.number})
                )
        return context

    def get_urls(self):
        return [
            path(
                "<path:object_id>/issue/",
                self.admin_site.admin_view(self.issue_view),
                name="invoicing_invoice_issue",
            ),
            *super().get_urls(),
        ]

    def issue_view(self, request, object_id):
        """POST: issue this draft (``invoice_issue``) and show its page, numbered."""
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None:
            raise Http404(_("No such invoice."))
        if request.method != "POST" or not super().has_change_permission(request, invoice):
            raise PermissionDenied
        try:
            invoice = invoice_issue(invoice=invoice)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, _("Issued invoice %(number)s.") % {"number": invoice.number})
        return redirect(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))

    # --- actions ----------------------------------------------------------------------------

    def get_actions(self, request):
        # Only drafts can be deleted: "Delete selected" is offered on the list of drafts alone.
        actions = super().get_actions(request)
        if request.GET.get("state__exact") != Invoice.State.DRAFT:
            actions.pop("delete_selected", None)
        return actions

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

    def has_render_pdf_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(permissions=["render_pdf"], description=_("Render PDF again"))
    def render_pdf_again(self, request, queryset):
        """Render, in this request, the PDFs of the selected issued invoices whose render
        failed (or is still pending); ready PDFs are left alone (a render would give the same
        bytes)."""
        missing = queryset.exclude(state=Invoice.State.DRAFT).exclude(
            pdf_status=Invoice.PdfStatus.READY
        )
        render_pdfs_in_request(
            self,
            request,
            missing=list(missing.order_by("issue_date", "pk")),
            render_pdfs=lambda batch: INVOICE_DOCUMENT.render_pdfs(documents=batch),
            texts=RENDER_TEXTS,
        )
