"""The invoice admin: drafts are edited and issued here, issued invoices are read-only,
payments are recorded through ``payment_record``.

Cancelling is the credits app's: ``credits.admin`` extends ``InvoiceAdmin`` with the cancel
workflow and registers the extended admin in its place.
"""

import uuid
from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, DecimalField, F, Q, Value, When
from django.db.models.functions import Greatest
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from coworking.admin import (
    CustomerAdmin,
    InputFilter,
    ListTitleMixin,
    PlainNumberInput,
    ReadOnlyAdminMixin,
    RenderTexts,
    account_figures_html,
    money_display,
    number_display,
    render_pdfs_in_request,
)
from coworking.documents.rendering import PdfRenderError
from coworking.einvoice.admin import EInvoiceDownloads
from coworking.errors import ApplicationError
from coworking.models import Customer
from coworking.money import (
    MAX_DIGITS,
    AmountNotReadable,
    amount_example,
    exact_money,
    money_html,
    parse_amount,
)
from invoicing.documents import invoices_render_pdfs
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Invoice, InvoiceLine, Payment
from invoicing.selectors import (
    available_credit,
    credit_applied_by_invoice,
    customers_with_available_credit,
)
from invoicing.services import (
    LineInput,
    invoice_draft_set_lines,
    invoice_issue,
    payment_check,
    payment_record,
)
from invoicing.statements import customer_statement_pdf_bytes, statement_period_error


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


_DISPLAYED = {"unit_price", "quantity", "tax_rate"}


class InvoiceLineInline(admin.TabularInline):
    """Lines are edited while the invoice is a draft and read-only once it is issued."""

    model = InvoiceLine
    extra = 0
    fields = [
        "position", "description", "quantity", "unit_price", "tax_rate", "net_display",
        "tax_display", "vat_category", "vat_exemption_reason", "vat_exemption_reason_code",
        "period_start", "period_end",
    ]  # fmt: skip
    readonly_fields = ["position", "net_display", "tax_display"]
    # Issued: every field read-only, the unit price shown as money, quantity and rate the
    # project's one way.
    frozen_fields = [f"{name}_display" if name in _DISPLAYED else name for name in fields]
    unit_price_display = money_display("unit_price", _("unit price"))
    quantity_display = number_display("quantity", _("quantity"))
    tax_rate_display = number_display("tax_rate", _("tax rate"), percent=True)
    net_display = money_display("net", _("net"))
    tax_display = money_display("tax", _("tax"))

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.state != Invoice.State.DRAFT

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("quantity", "tax_rate"):
            kwargs["widget"] = PlainNumberInput(attrs={"step": "any"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        return self.frozen_fields if self._frozen(obj) else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.frozen_fields if self._frozen(obj) else self.readonly_fields

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


OPEN_STATES = (Invoice.State.ISSUED, Invoice.State.PARTIALLY_PAID)
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


class CustomerFilter(InputFilter):
    """Invoices of customers whose billing name or e-mail contains the text typed."""

    title = _("customer")
    parameter_name = "customer"

    def queryset(self, request, queryset):
        text = (self.value() or "").strip()
        if not text:
            return queryset
        return queryset.filter(
            Q(customer__billing_name__icontains=text) | Q(customer__billing_email__icontains=text)
        )


class AmountDueAtLeastFilter(InputFilter):
    """Invoices with at least the amount typed still due (in their own currency).

    The amount is read as the admin's language writes it, or plainly (``parse_amount``).
    Text it cannot read stays in the box and leaves the list unfiltered by amount, with an
    error message saying so: not Django's usual reset to the whole list (``?e=1``), which
    clears the box and says nothing.
    """

    title = _("amount due at least")
    parameter_name = "due_from"

    def placeholder(self) -> str:
        return amount_example()

    def queryset(self, request, queryset):
        text = (self.value() or "").strip()
        if not text:
            return queryset
        try:
            amount = parse_amount(text)
        except AmountNotReadable:
            self._say_not_readable(request, text)
            return queryset
        return queryset.filter(state__in=OPEN_STATES, amount_due_value__gte=amount)

    @staticmethod
    def _say_not_readable(request, text):
        if getattr(request, "_amount_not_readable_said", False):
            return  # the changelist may build its filters more than once per request
        request._amount_not_readable_said = True
        messages.error(
            request,
            _(
                "Could not read “%(text)s” as an amount, so the list is not filtered by "
                "amount due. Type it like %(example)s or 1000.50."
            )
            % {"text": text, "example": amount_example()},
        )


class OverdueFilter(admin.SimpleListFilter):
    """Overdue: the due date has passed and money is still due."""

    title = _("payment")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        overdue = Q(state__in=OPEN_STATES, due_date__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ListTitleMixin, EInvoiceDownloads, admin.ModelAdmin):
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
    search_fields = ["number", "customer__billing_name", "customer__billing_email"]
    date_hierarchy = "issue_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a COUNT per filter choice: not on huge tables
    paginator = LargeTablePaginator
    inlines = [InvoiceLineInline, PaymentInline]
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
                )
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

    # --- the invoice page's everyday actions ------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The invoice page offers what is done next: **Issue** on a draft, and on an issued
        invoice its PDF and **Record payment** (the payment form opens on its number)."""
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None and obj.state == Invoice.State.DRAFT:
            if super().has_change_permission(request, obj):
                extra_context["issue_url"] = reverse("admin:invoicing_invoice_issue", args=[obj.pk])
        elif obj is not None:
            extra_context["pdf_url"] = reverse("api:invoice-pdf", kwargs={"pk": obj.pk})
            if obj.state in OPEN_STATES and request.user.has_perm("invoicing.add_payment"):
                extra_context["record_payment_url"] = (
                    reverse("admin:invoicing_payment_add")
                    + "?"
                    + urlencode({"invoice": obj.number})
                )
        return super().change_view(request, object_id, form_url, extra_context)

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
            render_pdfs=lambda batch: invoices_render_pdfs(invoices=batch),
            texts=RENDER_TEXTS,
        )


class PaymentForm(forms.ModelForm):
    """Applies the service's own payment rules, so a refusal is a form error, not a crash.
    The invoice is given by its number, as printed on it and on the bank transfer.

    Each form opened carries a one-time ``submission_token``: submitted twice, it records
    one payment. A bank reference the invoice already has is refused until staff tick
    ``confirm_same_reference``."""

    invoice = forms.ModelChoiceField(
        queryset=Invoice.objects.exclude(number=""),
        to_field_name="number",
        widget=forms.TextInput(attrs={"placeholder": "AMS-2026-000042", "size": 24}),
        label=_("Invoice number"),
        error_messages={"invalid_choice": _("No issued invoice has this number.")},
    )
    # "Account credit" applies credit the customer holds (never more than held or due).
    method = forms.ChoiceField(choices=Payment.Method.choices)
    confirm_same_reference = forms.BooleanField(
        label=_("Same reference again"),
        required=False,
        help_text=_(
            "Tick only when the invoice already has a payment with this reference and this is "
            "really another transfer."
        ),
    )
    submission_token = forms.UUIDField(
        label=_("submission token"),
        widget=forms.HiddenInput,
        initial=uuid.uuid4,
        error_messages={
            "required": _("This form is out of date: open Record payment again."),
            "invalid": _("This form is out of date: open Record payment again."),
        },
    )

    class Meta:
        model = Payment
        fields = ["invoice", "amount", "method", "received_on", "reference"]

    def clean(self):
        data = super().clean()
        invoice, amount, method = data.get("invoice"), data.get("amount"), data.get("method")
        if invoice is not None and amount is not None and method:
            try:
                payment_check(
                    invoice=invoice,
                    amount=amount,
                    method=method,
                    reference=data.get("reference", ""),
                    confirm_same_reference=data.get("confirm_same_reference", False),
                    submission_token=data.get("submission_token"),
                )
            except ApplicationError as error:
                raise forms.ValidationError(error.message, code=error.code) from None
        return data


@admin.register(Payment)
class PaymentAdmin(ListTitleMixin, admin.ModelAdmin):
    """Payments are recorded through ``payment_record`` and never edited afterwards."""

    form = PaymentForm
    list_display = ["invoice", "amount_display", "method", "received_on", "reference"]
    list_filter = ["method", "received_on"]
    list_select_related = ["invoice"]
    search_fields = ["invoice__number", "reference"]
    fields = [
        "invoice",
        "amount",
        "method",
        "received_on",
        "reference",
        "confirm_same_reference",
        "submission_token",
    ]
    recorded_fields = ["invoice", "amount_display", "method", "received_on", "reference"]
    amount_display = money_display("amount", _("amount"))

    def get_fields(self, request, obj=None):
        return self.recorded_fields if obj is not None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.recorded_fields if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The form checked the rules; the service checks them again under the invoice lock.
        # Losing that race (another payment, or the same form posted twice at once) is
        # reported, nothing is written.
        try:
            payment = payment_record(
                invoice=obj.invoice,
                amount=obj.amount,
                method=obj.method,
                received_on=obj.received_on,
                reference=obj.reference,
                confirm_same_reference=form.cleaned_data["confirm_same_reference"],
                submission_token=form.cleaned_data["submission_token"],
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


def statement_name(customer: Customer) -> str:
    """The customer's name as a file name reads it (``Café Noir B.V.`` → ``cafe-noir-bv``):
    what staff recognise in their downloads, unlike the internal id; ASCII letters, digits
    and hyphens only, so it is safe in a header. A name with no such letter (all in another
    script) falls back to ``customer-<id>``."""
    return slugify(customer.billing_name)[:60].strip("-") or f"customer-{customer.pk}"


class _LanguageDateInput(forms.DateInput):
    """A date box in the admin language's own format (``07/12/2026``, ``07-12-2026``), not
    the browser's ``type="date"`` box, which follows the browser's locale (an en-US browser
    showed ``12/07/2026`` above a ledger reading ``07/12/2026``). ISO dates are read too."""

    def __init__(self):
        super().__init__(attrs={"size": 10, "required": True, "autocomplete": "off"})


class StatementForm(forms.Form):
    """The statement's period, typed as the admin's language writes dates."""

    start = forms.DateField(widget=_LanguageDateInput)
    end = forms.DateField(widget=_LanguageDateInput)

    def clean(self):
        data = super().clean()
        if error := statement_period_error(start=data.get("start"), end=data.get("end")):
            raise forms.ValidationError(error)
        return data


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerAccountAdmin(CustomerAdmin):
    """The customer's account page (``coworking.admin.CustomerAdmin``) with what invoicing
    knows: the account credit available per currency (``available_credit``) beside the
    balance, the credit applied to each invoice of the ledger (payments from account credit
    are not ledger entries: they move credit onto an invoice, not the balance), and the
    printable statement of a period (``invoicing.statements``)."""

    list_display = [*CustomerAdmin.list_display, "available_credit_column"]

    def with_account_figures(self, customers):
        return customers_with_available_credit(customers=customers)

    @admin.display(description=_("available credit"), ordering="billing_credit")
    def available_credit_column(self, customer):
        return account_figures_html(customer, "credit")

    def account_currencies(self, customer):
        rows = super().account_currencies(customer)
        for row in rows:
            row["available_credit"] = available_credit(customer=customer, currency=row["currency"])
        return rows

    def account_context(self, request, customer):
        today = timezone.localdate()
        context = super().account_context(request, customer)
        rows = context["ledger"]["entries"]
        applied = credit_applied_by_invoice(
            invoice_ids=[row["entry"].invoice_id for row in rows if row["entry"].kind == "invoice"]
        )
        for row in rows:
            if row["entry"].kind == "invoice":
                row["credit_applied"] = applied.get(row["entry"].invoice_id)
        return {
            **context,
            "shows_credit": True,
            "statement_url": reverse("admin:coworking_customer_statement", args=[customer.pk]),
            "statement_form": StatementForm(
                initial={"start": today.replace(month=1, day=1), "end": today},
                auto_id="statement-%s",
            ),
        }

    def get_urls(self):
        return [
            path(
                "<path:object_id>/statement/",
                self.admin_site.admin_view(self.statement_view),
                name="coworking_customer_statement",
            ),
            *super().get_urls(),
        ]

    def statement_view(self, request, object_id):
        """GET ``?start=YYYY-MM-DD&end=YYYY-MM-DD``: the customer statement of that period as
        a PDF download; a period that is not one goes back to the page with a message."""
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404(_("No such customer."))
        if not self.has_view_permission(request, customer):
            raise PermissionDenied
        form = StatementForm(request.GET)
        if not form.is_valid():
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
            self.message_user(
                request,
                _("No statement: %(errors)s") % {"errors": " ".join(errors)},
                messages.ERROR,
            )
            return redirect(reverse("admin:coworking_customer_change", args=[customer.pk]))
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        try:
            data = customer_statement_pdf_bytes(
                customer=customer, start=start, end=end, today=timezone.localdate()
            )
        except (ApplicationError, PdfRenderError) as error:
            self.message_user(request, getattr(error, "message", str(error)), messages.ERROR)
            return redirect(reverse("admin:coworking_customer_change", args=[customer.pk]))
        response = HttpResponse(data, content_type="application/pdf")
        filename = f"statement-{statement_name(customer)}-{start.isoformat()}-{end.isoformat()}.pdf"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
