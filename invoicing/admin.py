"""Invoice admin, including the staff "Cancel invoice" workflow.

Three entry points lead to one confirmation page, built the way Django's own
``delete_selected`` is: the **Cancel invoice** bulk action on ticked rows (channel
``admin_bulk``), the **Cancel invoice** link in a row's actions column and the button on
the invoice page (channel ``admin``). The first request renders the page (nothing changes,
so **Back** is always safe); posting it again with ``post=yes`` acts: every invoice goes
through ``credits.services.invoice_cancel`` in its own transaction, and the outcome is
reported per invoice in admin messages. A double submit finds the invoices cancelled and
reports them as skipped; the service guarantees one credit note per invoice. Selections
above ``settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD`` run as a Celery task instead, with a
progress page backed by the database (``credits.models.BulkCancellation``).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from coworking.einvoice.admin import EInvoiceDownloads
from coworking.errors import ApplicationError
from credits.models import BulkCancellation, BulkCancellationItem, CreditNote
from credits.selectors import (
    bulk_cancellation_progress,
    bulk_cancellation_results,
    invoice_cancellation_preview,
)
from credits.services import (
    REASON_MAX_LENGTH,
    bulk_cancellation_start,
    invoices_cancel_each,
    queue_bulk_cancellation,
)
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel, Invoice, InvoiceLine, Payment
from invoicing.services import (
    LineInput,
    invoice_draft_set_lines,
    invoice_issue,
    payment_check,
    payment_record,
)

# Up to this many credit notes are linked one by one in the success message.
LINKED_CREDIT_NOTES_MAX = 10
# The confirmation page lists at most this many invoices (totals always cover them all).
CONFIRMATION_ROWS_MAX = 500
# Results per poll of the progress endpoint, and on the progress page itself.
PROGRESS_RESULTS_PER_POLL = 200
PROGRESS_RESULTS_ON_PAGE = 1000


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


class CancelInvoicesForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Optional. Recorded on the credit notes and in the audit trail."),
    )


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


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["received_on", "amount", "method", "reference"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
        "credit_note_column",
    ]
    list_filter = ["state", "location", "currency", "issue_date"]
    list_select_related = ["customer", "location"]
    search_fields = ["number", "customer__billing_name", "customer__billing_email"]
    date_hierarchy = "issue_date"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # a COUNT per filter choice: not on huge tables
    paginator = LargeTablePaginator
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["issue_selected", "cancel_selected"]
    raw_id_fields = ["customer"]
    change_list_template = "admin/invoicing/invoice/change_list.html"
    change_form_template = "admin/invoicing/invoice/change_form.html"
    cancel_confirmation_template = "admin/invoicing/invoice/cancel_confirmation.html"
    bulk_progress_template = "admin/invoicing/invoice/bulk_cancel_progress.html"

    # --- list -----------------------------------------------------------------------------

    def get_queryset(self, request):
        # The actions column needs the credit note of cancelled rows: joined, not per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                credit_note_pk=F("credit_note__pk"), credit_note_number=F("credit_note__number")
            )
        )

    def get_list_display(self, request):
        # Users who may cancel get the actions column: the cancel link on cancellable rows,
        # the credit note on cancelled ones. Others see only the credit notes.
        columns = list(super().get_list_display(request))
        if self.has_cancel_permission(request):
            columns[columns.index("credit_note_column")] = "actions_column"
        return columns

    @admin.display(description=_("invoice"), ordering="number")
    def number_column(self, obj):
        return str(obj)

    @admin.display(description=_("credit note"))
    def credit_note_column(self, obj):
        if not getattr(obj, "credit_note_pk", None):
            return "-"
        return format_html(
            '<a class="credit-note-link" href="{}">{}</a>',
            reverse("admin:credits_creditnote_change", args=[obj.credit_note_pk]),
            obj.credit_note_number,
        )

    @admin.display(description=_("actions"))
    def actions_column(self, obj):
        if obj.is_cancellable:
            return format_html(
                '<a class="cancel-invoice-link" href="{}">{}</a>',
                reverse("admin:invoicing_invoice_cancel", args=[obj.pk]),
                gettext("Cancel invoice"),
            )
        return self.credit_note_column(obj)

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

    def has_cancel_permission(self, request, obj=None):
        """The custom model permission ``invoicing.cancel_invoice``."""
        return request.user.has_perm("invoicing.cancel_invoice")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None:
            if obj.is_cancellable and self.has_cancel_permission(request, obj):
                extra_context["cancel_url"] = (
                    reverse("admin:invoicing_invoice_cancel", args=[obj.pk]) + "?origin=change"
                )
            if obj.state == Invoice.State.CANCELLED:
                extra_context["credit_note"] = (
                    CreditNote.objects.filter(invoice_id=obj.pk)
                    .only("pk", "number", "issue_date")
                    .first()
                )
        return super().change_view(request, object_id, form_url, extra_context)

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

    def changelist_view(self, request, extra_context=None):
        # Django drops an action the user may not run and just redirects; a cancel posted
        # without the permission is refused outright instead.
        if (
            request.method == "POST"
            and "cancel_selected" in request.POST.getlist("action")
            and not self.has_cancel_permission(request)
        ):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Cancel invoice"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        """Cancel the ticked invoices, after a confirmation page (like ``delete_selected``).

        Without ``post`` it renders the confirmation; with it, it cancels (or hands a large
        selection to the background task) and returns ``None`` to go back to the list.
        """
        select_across = request.POST.get("select_across") == "1"
        form = CancelInvoicesForm(request.POST if request.POST.get("post") else None)
        if request.POST.get("post") and form.is_valid():
            ids = list(queryset.order_by("pk").values_list("pk", flat=True))
            return self._cancel_invoices(
                request, ids=ids, reason=form.cleaned_data["reason"], channel=Channel.ADMIN_BULK
            )
        return self._cancel_confirmation(
            request,
            invoices=queryset,
            form=form,
            action="cancel_selected",
            select_across=select_across,
            back_url=request.get_full_path(),
        )

    def cancel_view(self, request, object_id):
        """The row link and the detail-page button: GET confirms, POST with ``post`` acts."""
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None:
            raise Http404(gettext("No such invoice."))
        origin = request.POST.get("origin", request.GET.get("origin"))
        origin = "change" if origin == "change" else "changelist"
        if origin == "change":
            next_url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
        else:
            next_url = reverse("admin:invoicing_invoice_changelist")
        form = CancelInvoicesForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and request.POST.get("post") and form.is_valid():
            response = self._cancel_invoices(
                request, ids=[invoice.pk], reason=form.cleaned_data["reason"], channel=Channel.ADMIN
            )
            return response or HttpResponseRedirect(next_url)
        return self._cancel_confirmation(
            request,
            invoices=Invoice.objects.filter(pk=invoice.pk),
            form=form,
            origin=origin,
            back_url=next_url,
        )

    def _cancel_confirmation(
        self, request, *, invoices, form, back_url, action="", select_across=False, origin=""
    ):
        preview = invoice_cancellation_preview(invoices=invoices, limit=CONFIRMATION_ROWS_MAX)
        selected = preview.to_cancel_count + preview.skipped_count
        context = {
            **self.admin_site.each_context(request),
            "title": ngettext("Cancel invoice", "Cancel invoices", preview.to_cancel_count),
            "subtitle": None,
            "opts": self.opts,
            "preview": preview,
            "form": form,
            "action": action,
            "origin": origin,
            "select_across": select_across,
            "selected_ids": (
                [] if select_across or not action else invoices.values_list("pk", flat=True)
            ),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "in_background": selected > settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD,
            "back_url": back_url,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.cancel_confirmation_template, context)

    def _cancel_invoices(self, request, *, ids, reason, channel):
        """Cancel now and report in messages (returns ``None``), or, for a large selection,
        start a background bulk cancellation and redirect to its progress page."""
        if len(ids) > settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD:
            try:
                bulk = bulk_cancellation_start(
                    invoice_ids=ids, actor=request.user, reason=reason, channel=channel
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                return None
            self.message_user(
                request,
                gettext("Cancelling %(count)d invoices in the background.") % {"count": bulk.total},
                messages.INFO,
            )
            return HttpResponseRedirect(
                reverse("admin:invoicing_invoice_bulk_cancellation", args=[bulk.pk])
            )
        try:
            results = invoices_cancel_each(
                invoice_ids=ids, actor=request.user, reason=reason, channel=channel
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        self._report(request, results)
        return None

    def _report(self, request, results):
        """One success message (count and credit note numbers, linked when few) and one
        warning per invoice skipped or failed."""
        credit_notes = [r.credit_note for r in results if r.credit_note is not None]
        if credit_notes:
            if len(credit_notes) <= LINKED_CREDIT_NOTES_MAX:
                numbers = format_html_join(
                    ", ",
                    '<a href="{}">{}</a>',
                    (
                        (reverse("admin:credits_creditnote_change", args=[cn.pk]), cn.number)
                        for cn in credit_notes
                    ),
                )
            else:
                numbers = ", ".join(cn.number for cn in credit_notes)
            text = ngettext(
                "Cancelled %(count)d invoice; credit note issued: {}.",
                "Cancelled %(count)d invoices; credit notes issued: {}.",
                len(credit_notes),
            ) % {"count": len(credit_notes)}
            self.message_user(request, format_html(text, numbers), messages.SUCCESS)
        for result in results:
            if result.outcome == BulkCancellationItem.Outcome.SKIPPED:
                text = gettext("Skipped %(invoice)s: %(reason)s.")
            elif result.outcome == BulkCancellationItem.Outcome.FAILED:
                text = gettext("Could not cancel %(invoice)s: %(reason)s")
            else:
                continue
            self.message_user(
                request,
                text % {"invoice": result.invoice_label, "reason": result.message},
                messages.WARNING,
            )
        if not results:
            self.message_user(request, gettext("No invoices were selected."), messages.WARNING)

    # --- background bulk cancellations ------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/cancel/", view(self.cancel_view), name="invoicing_invoice_cancel"
            ),
            path(
                "bulk-cancellations/<int:bulk_id>/",
                view(self.bulk_cancellation_view),
                name="invoicing_invoice_bulk_cancellation",
            ),
            path(
                "bulk-cancellations/<int:bulk_id>/progress.json",
                view(self.bulk_cancellation_progress_view),
                name="invoicing_invoice_bulk_cancellation_progress",
            ),
            *super().get_urls(),
        ]

    def _get_bulk(self, request, bulk_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(BulkCancellation.objects.select_related("created_by"), pk=bulk_id)

    def bulk_cancellation_view(self, request, bulk_id):
        """The progress page: done/total, a bar and the per-invoice results, all read from
        the database, so it survives a reload and stays available afterwards. POST queues
        the task again (safe: the run only picks pending items)."""
        bulk = self._get_bulk(request, bulk_id)
        if request.method == "POST" and bulk.status != BulkCancellation.Status.DONE:
            if not self.has_cancel_permission(request):
                raise PermissionDenied
            if queue_bulk_cancellation(bulk_id=bulk.pk):
                self.message_user(request, gettext("Queued again."), messages.INFO)
            else:
                self.message_user(
                    request, gettext("The task queue is not reachable."), messages.ERROR
                )
            return HttpResponseRedirect(request.path)
        results = list(bulk_cancellation_results(bulk=bulk)[:PROGRESS_RESULTS_ON_PAGE])
        context = {
            **self.admin_site.each_context(request),
            "title": str(bulk),
            "subtitle": None,
            "opts": self.opts,
            "bulk": bulk,
            "progress": bulk_cancellation_progress(bulk=bulk),
            "results": [self._result_row(item) for item in results],
            "last_id": results[-1].pk if results else 0,
            "progress_url": reverse(
                "admin:invoicing_invoice_bulk_cancellation_progress", args=[bulk.pk]
            ),
            "can_requeue": self.has_cancel_permission(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.bulk_progress_template, context)

    def bulk_cancellation_progress_view(self, request, bulk_id):
        """JSON for the progress page: counts, and results after the ``after`` item id."""
        bulk = self._get_bulk(request, bulk_id)
        try:
            after = max(int(request.GET.get("after", 0)), 0)
        except ValueError:
            after = 0
        progress = bulk_cancellation_progress(bulk=bulk)
        items = list(bulk_cancellation_results(bulk=bulk, after=after)[:PROGRESS_RESULTS_PER_POLL])
        return JsonResponse(
            {
                "id": bulk.pk,
                "status": bulk.status,
                "status_label": bulk.get_status_display(),
                "finished": bulk.status == BulkCancellation.Status.DONE,
                "total": progress.total,
                "done": progress.done,
                "cancelled": progress.cancelled,
                "skipped": progress.skipped,
                "failed": progress.failed,
                "percent": progress.percent,
                "results": [self._result_row(item) for item in items],
                "next": items[-1].pk if items else after,
                "more": len(items) == PROGRESS_RESULTS_PER_POLL,
            }
        )

    @staticmethod
    def _result_row(item: BulkCancellationItem) -> dict:
        credit_note = item.credit_note
        return {
            "id": item.pk,
            "invoice": str(item.invoice),
            "invoice_url": reverse("admin:invoicing_invoice_change", args=[item.invoice_id]),
            "customer": str(item.invoice.customer),
            "outcome": item.outcome,
            "outcome_label": item.get_outcome_display(),
            "credit_note": credit_note.number if credit_note else "",
            "credit_note_url": (
                reverse("admin:credits_creditnote_change", args=[credit_note.pk])
                if credit_note
                else ""
            ),
            "message": item.message,
        }


class PaymentForm(forms.ModelForm):
    """Applies the service's own payment rules, so a refusal is a form error, not a crash."""

    method = forms.ChoiceField(
        choices=[c for c in Payment.Method.choices if c[0] != Payment.Method.ACCOUNT_CREDIT]
    )

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


# Registered here rather than in credits/admin.py because its pages belong to the invoice
# admin's cancel workflow; it only lists past and running bulk cancellations.
@admin.register(BulkCancellation)
class BulkCancellationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_at", "created_by", "status", "total", "progress_link"]
    list_filter = ["status"]
    list_select_related = ["created_by"]

    @admin.display(description=_("progress"))
    def progress_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:invoicing_invoice_bulk_cancellation", args=[obj.pk]),
            gettext("Show progress and results"),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
