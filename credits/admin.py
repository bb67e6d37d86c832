"""Admin of credits: credit notes (read-only, PDF download, "Render missing PDFs"), the
cancellation audit trail, bulk cancellations, and the staff "Cancel invoice" workflow,
which extends the invoice admin and is registered in its place.

The workflow has three entry points and one confirmation page, built the way Django's own
``delete_selected`` is: the **Cancel invoice** bulk action on ticked rows (channel
``admin_bulk``), the **Cancel invoice** link in a row's actions column and the button on
the invoice page (channel ``admin``). The first request renders the page (nothing changes,
so **Back** is always safe); posting it again with ``post=yes`` acts: every invoice goes
through ``credits.services.invoice_cancel`` in its own transaction, and the outcome is
reported per invoice in admin messages. A double submit finds the invoices cancelled and
reports them as skipped; the service guarantees one credit note per invoice. Continue
cancels only what the page showed: the page carries the figures it computed from (each
invoice's state, total, paid, credited and due; for a selection cancelled in the background,
a digest of them), checked again before acting, and by ``invoice_cancel`` under each
invoice's lock; an invoice that changed in between (a payment meanwhile) means nothing is
cancelled and the recomputed confirmation is shown again, saying what changed. Selections
above ``settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD`` run as a Celery task instead, with a
progress page backed by the database (``credits.models.BulkCancellation``).
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F, FilteredRelation, Q
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, ngettext_lazy, npgettext
from django.utils.translation import gettext_lazy as _

from coworking.admin import (
    ReadOnlyAdminMixin,
    RenderTexts,
    money_display,
    number_display,
    render_pdfs_in_request,
)
from coworking.einvoice.admin import EInvoiceDownloads
from coworking.errors import ApplicationError
from credits.admin_credit import IssueCreditNoteAdminMixin, sign_figures, unsign_figures
from credits.documents import credit_note_pdf_response, credit_notes_render_pdfs
from credits.einvoice import credit_note_einvoice
from credits.errors import ConfirmationOutdated
from credits.models import (
    BulkCancellation,
    BulkCancellationItem,
    CancellationEvent,
    CreditNote,
    CreditNoteLine,
    Refund,
)
from credits.policies import CANCEL_PERMISSION, CANCELLABLE_STATES, cancel_refusal
from credits.selectors import (
    bulk_cancellation_outcomes,
    bulk_cancellation_progress,
    bulk_cancellation_results,
    bulk_cancellation_stalled,
    figures_changes,
    invoice_cancellation_preview,
    invoice_figures,
    invoices_digest,
    invoices_figures,
)
from credits.services import (
    REASON_MAX_LENGTH,
    bulk_cancellation_start,
    invoices_cancel_each,
    queue_bulk_cancellation,
)
from invoicing.admin import InvoiceAdmin
from invoicing.models import Channel, Invoice

# Up to this many credit notes are linked one by one in the success message.
LINKED_CREDIT_NOTES_MAX = 10
# The confirmation page lists at most this many invoices (totals always cover them all).
CONFIRMATION_ROWS_MAX = 500
# Results per poll of the progress endpoint, and on the progress page itself.
PROGRESS_RESULTS_PER_POLL = 200
PROGRESS_RESULTS_ON_PAGE = 1000


class CancelInvoicesForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_(
            "Optional and internal: kept for staff with the credit notes and in the audit "
            "trail; not printed on them and never sent to the customer."
        ),
    )


RENDER_TEXTS = RenderTexts(
    all_ready=_("The selected credit notes all have their PDF."),
    rendered=ngettext_lazy(
        "Rendered the PDF of %(count)d credit note.",
        "Rendered the PDFs of %(count)d credit notes.",
        "count",
    ),
    more_missing=ngettext_lazy(
        "%(count)d more credit note is missing its PDF: run the action again.",
        "%(count)d more credit notes are missing their PDF: run the action again.",
        "count",
    ),
)


class CreditNoteLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditNoteLine
    fields = [
        "position", "description", "quantity_display", "unit_price_display", "tax_rate_display",
        "net_display", "tax_display", "vat_category", "vat_exemption_reason", "period_start",
        "period_end",
    ]  # fmt: skip
    readonly_fields = fields
    extra = 0
    quantity_display = number_display("quantity", _("quantity"))
    tax_rate_display = number_display("tax_rate", _("tax rate"), percent=True)
    unit_price_display = money_display("unit_price", _("unit price"))
    net_display = money_display("net", _("net"))
    tax_display = money_display("tax", _("tax"))


@admin.register(CreditNote)
class CreditNoteAdmin(EInvoiceDownloads, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: credit notes are issued by the cancel operation only.

    Staff who may view credit notes download the PDF (``<id>/pdf/``) and run "Render
    missing PDFs" on notes whose PDF is pending or failed; the failure reason is shown.
    """

    list_display = [
        "number",
        "invoice_number",
        "customer",
        "issue_date",
        "total_display",
        "pdf_link",
    ]
    list_filter = ["location", "issue_date", "pdf_status"]
    list_select_related = ["customer", "location"]
    search_fields = ["number", "invoice_number", "customer__billing_name"]
    show_full_result_count = False
    date_hierarchy = "issue_date"
    inlines = [CreditNoteLineInline]
    actions = ["render_missing_pdfs"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "einvoice_links",
                    "issue_date",
                    "location",
                    "customer",
                    "invoice",
                    "invoice_number",
                    "invoice_issue_date",
                    "currency",
                    "net_total_display",
                    "tax_total_display",
                    "total_display",
                    "reason",
                    "created_by",
                    "channel",
                    "created_at",
                    "buyer_reference",
                    "vat_currency",
                    "vat_exchange_rate_display",
                    "tax_total_vat_currency",
                ]
            },
        ),
        (
            _("PDF"),
            {
                "fields": [
                    "pdf_status",
                    "pdf_link",
                    "pdf_error",
                    "pdf_sha256",
                    "pdf_size",
                    "pdf_rendered_at",
                    "emailed_at",
                ]
            },
        ),
    ]

    net_total_display = money_display("net_total", _("net total"))
    tax_total_display = money_display("tax_total", _("tax total"))
    total_display = money_display("total", _("total"))
    vat_exchange_rate_display = number_display(
        "vat_exchange_rate", _("exchange rate to the VAT currency")
    )

    # The PDF lives in private storage without a URL: it is only served by ``pdf_view``.
    def get_readonly_fields(self, request, obj=None):
        fields = [f.name for f in self.model._meta.fields if f.name != "pdf_file"]
        return [
            *fields,
            "pdf_link",
            "einvoice_links",
            "net_total_display",
            "tax_total_display",
            "total_display",
            "vat_exchange_rate_display",
        ]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="{}_{}_pdf".format(*info),
            ),
            *super().get_urls(),
        ]

    def einvoice_xml(self, obj, syntax):
        return credit_note_einvoice(credit_note=obj, syntax=syntax)

    def pdf_view(self, request, object_id):
        """Serve the stored PDF as an attachment to staff who may view the credit note."""
        credit_note = self.get_object(request, unquote(object_id))
        if credit_note is None:
            raise Http404(_("No such credit note."))
        if not self.has_view_permission(request, credit_note):
            raise PermissionDenied
        try:
            return credit_note_pdf_response(credit_note=credit_note)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.WARNING)
            return redirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[credit_note.pk],
                    current_app=self.admin_site.name,
                )
            )

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj.pdf_status != CreditNote.PdfStatus.READY:
            return obj.get_pdf_status_display()
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_pdf",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )
        return format_html('<a href="{}">{}</a>', url, _("Download PDF"))

    def has_render_pdf_permission(self, request):
        return self.has_view_permission(request)

    @admin.action(permissions=["render_pdf"], description=_("Render missing PDFs"))
    def render_missing_pdfs(self, request, queryset):
        """Render, in this request, the PDFs of the selected notes that are pending or failed
        (``coworking.admin.render_pdfs_in_request``); ready PDFs are left alone."""
        missing = queryset.exclude(pdf_status=CreditNote.PdfStatus.READY)
        render_pdfs_in_request(
            self,
            request,
            missing=list(missing.order_by("created_at", "pk")),
            render_pdfs=lambda batch: credit_notes_render_pdfs(credit_notes=batch),
            texts=RENDER_TEXTS,
        )


@admin.register(CancellationEvent)
class CancellationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "invoice", "credit_note", "actor", "channel", "previous_state"]
    list_filter = ["channel"]
    list_select_related = ["invoice", "credit_note", "actor"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money paid back and credit settled outside, as recorded by ``refund_record`` or by a
    credit note (read-only: the ledger holds their debits)."""

    list_display = ["created_at", "customer", "kind", "amount_display", "credit_note", "reference"]
    list_filter = ["kind", "channel"]
    list_select_related = ["customer", "credit_note"]
    search_fields = ["customer__billing_name", "reference", "credit_note__number"]
    amount_display = money_display("amount", _("amount"))


@admin.register(BulkCancellation)
class BulkCancellationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Past and running bulk cancellations; each links to its progress page (served by the
    invoice admin, whose cancel workflow started it)."""

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


class CancellableInvoiceAdmin(IssueCreditNoteAdminMixin, InvoiceAdmin):
    """The invoice admin with the credit note of each cancelled invoice (list column, banner
    on its page), for staff with ``invoicing.cancel_invoice`` the cancel workflow, and for
    staff with ``invoicing.issue_credit_note`` the partial credit note workflow
    (``credits.admin_credit``)."""

    list_display = [*InvoiceAdmin.list_display, "credit_note_column"]
    actions = [*InvoiceAdmin.actions, "cancel_selected"]
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
                cancelling_note=FilteredRelation(
                    "credit_notes", condition=Q(credit_notes__cancels_invoice=True)
                ),
                credit_note_pk=F("cancelling_note__pk"),
                credit_note_number=F("cancelling_note__number"),
            )
        )

    def get_list_display(self, request):
        # Users who may cancel get the actions column: the cancel link on cancellable rows,
        # the credit note on cancelled ones. Others see only the credit notes.
        columns = list(super().get_list_display(request))
        if self.has_cancel_permission(request):
            columns[columns.index("credit_note_column")] = self._actions_column(request)
        return columns

    @admin.display(description=_("credit note"))
    def credit_note_column(self, obj):
        if not getattr(obj, "credit_note_pk", None):
            return "-"
        return format_html(
            '<a class="credit-note-link" href="{}">{}</a>',
            reverse("admin:credits_creditnote_change", args=[obj.credit_note_pk]),
            obj.credit_note_number,
        )

    def _actions_column(self, request):
        """The row action column of this request's list: its cancel link carries the list's
        filters, search and page, so the user comes back to the same list afterwards."""
        shown = request.GET.urlencode()
        query = "?" + urlencode({"_changelist_filters": shown}) if shown else ""

        @admin.display(description=_("actions"))
        def actions_column(obj):
            if cancel_refusal(invoice=obj) is None:
                return format_html(
                    '<a class="cancel-invoice-link" href="{}">{}</a>',
                    reverse("admin:invoicing_invoice_cancel", args=[obj.pk]) + query,
                    gettext("Cancel invoice"),
                )
            return self.credit_note_column(obj)

        return actions_column

    # --- detail -----------------------------------------------------------------------------

    def has_cancel_permission(self, request, obj=None):
        """The custom model permission ``invoicing.cancel_invoice``."""
        return request.user.has_perm(CANCEL_PERMISSION)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None:
            if cancel_refusal(invoice=obj) is None and self.has_cancel_permission(request, obj):
                extra_context["cancel_url"] = (
                    reverse("admin:invoicing_invoice_cancel", args=[obj.pk]) + "?origin=change"
                )
            notes = list(
                CreditNote.objects.filter(invoice_id=obj.pk)
                .only("pk", "number", "issue_date", "total", "total_currency", "cancels_invoice")
                .order_by("pk")
            )
            extra_context["credit_notes"] = notes
            extra_context["creditable"] = obj.amount_creditable
            if obj.state == Invoice.State.CANCELLED:
                extra_context["credit_note"] = next((n for n in notes if n.cancels_invoice), None)
        return super().change_view(request, object_id, form_url, extra_context)

    # --- cancelling -------------------------------------------------------------------------

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
        selection to the background task) and returns ``None`` to go back to the list. When
        invoices changed since the confirmation, the confirmation is shown again: of the whole
        selection if nothing was cancelled, else of those that changed.
        """
        select_across = request.POST.get("select_across") == "1"
        selected_ids = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        form = CancelInvoicesForm(request.POST if request.POST.get("post") else None)
        if request.POST.get("post") and form.is_valid():
            ids = list(queryset.order_by("pk").values_list("pk", flat=True))
            as_shown, changed = self._as_shown(request, ids=ids)
            if not changed:
                response, outdated = self._cancel_invoices(
                    request,
                    ids=ids,
                    reason=form.cleaned_data["reason"],
                    channel=Channel.ADMIN_BULK,
                    as_shown=as_shown,
                )
                if not outdated:
                    return response
                queryset = Invoice.objects.filter(pk__in=outdated)
                select_across, selected_ids = False, [str(pk) for pk in outdated]
        return self._cancel_confirmation(
            request,
            invoices=queryset,
            form=form,
            action="cancel_selected",
            select_across=select_across,
            selected_ids=selected_ids,
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
        else:  # back to the list as it was: same filters, search and page
            shown = request.GET.get("_changelist_filters", "")
            next_url = reverse("admin:invoicing_invoice_changelist") + (
                f"?{shown}" if shown else ""
            )
        form = CancelInvoicesForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and request.POST.get("post") and form.is_valid():
            as_shown, changed = self._as_shown(request, ids=[invoice.pk])
            if not changed:
                response, outdated = self._cancel_invoices(
                    request,
                    ids=[invoice.pk],
                    reason=form.cleaned_data["reason"],
                    channel=Channel.ADMIN,
                    as_shown=as_shown,
                )
                if not outdated:
                    return response or HttpResponseRedirect(next_url)
        return self._cancel_confirmation(
            request,
            invoices=Invoice.objects.filter(pk=invoice.pk),
            form=form,
            origin=origin,
            back_url=next_url,
        )

    def _cancel_confirmation(
        self,
        request,
        *,
        invoices,
        form,
        back_url,
        action="",
        select_across=False,
        selected_ids=(),
        origin="",
    ):
        preview = invoice_cancellation_preview(invoices=invoices, limit=CONFIRMATION_ROWS_MAX)
        # In the background when more than the threshold will be cancelled (what will be
        # skipped does not count); ``_cancel_invoices`` decides the same way.
        in_background = preview.to_cancel_count > settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD
        if in_background:
            ids = invoices.order_by().values_list("pk", flat=True)
            shown = {"digest": invoices_digest(invoice_ids=ids)}
        elif len(preview.to_cancel) == preview.to_cancel_count:
            shown = {"invoices": {str(i.pk): invoice_figures(invoice=i) for i in preview.to_cancel}}
        else:
            ids = invoices.filter(state__in=CANCELLABLE_STATES).values_list("pk", flat=True)
            shown = {"invoices": {str(k): v for k, v in invoices_figures(invoice_ids=ids).items()}}
        context = {
            **self.admin_site.each_context(request),
            # A context of its own: the plural would hide the singular "Cancel invoice" of the
            # buttons from gettext (a catalog entry is either singular or plural).
            "title": npgettext(
                "page title", "Cancel invoice", "Cancel invoices", preview.to_cancel_count
            ),
            "subtitle": None,
            "opts": self.opts,
            "preview": preview,
            "form": form,
            "action": action,
            "origin": origin,
            "select_across": select_across,
            # The ticked rows as posted: with "Select all N" they are the page's rows and
            # ``select_across`` widens the action to the whole list again on Continue (Django
            # refuses an action posted without any ticked row).
            "selected_ids": list(selected_ids) if action else [],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "in_background": in_background,
            "confirmation": sign_figures(shown),
            "back_url": back_url,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.cancel_confirmation_template, context)

    def _as_shown(self, request, *, ids):
        """Compare the selection with the figures its confirmation page carried; return
        (each invoice's figures as shown, for ``invoice_cancel`` to check under its lock;
        whether anything changed). A change is reported in a message, and the caller shows
        the confirmation again.

        An invoice that can no longer be cancelled (cancelled meanwhile, a double submit) is
        not a change: ``invoice_cancel`` skips it and the report says why."""
        shown = unsign_figures(request.POST.get("confirmation"))
        if not isinstance(shown, dict) or not ({"invoices", "digest"} & set(shown)):
            text = gettext("This confirmation page is out of date: check it again.")
            self.message_user(request, text, messages.WARNING)
            return None, True
        if "digest" in shown:
            now = invoices_figures(invoice_ids=ids)
            if shown["digest"] == invoices_digest(figures=now):
                return now, False
            text = gettext(
                "The selected invoices changed since this confirmation was shown (a payment, "
                "a credit note or a cancellation meanwhile): nothing was cancelled. Check the "
                "figures again and continue."
            )
            self.message_user(request, text, messages.WARNING)
            return None, True
        as_shown = {int(pk): figures for pk, figures in shown["invoices"].items()}
        now = {
            pk: figures
            for pk, figures in invoices_figures(invoice_ids=ids).items()
            if figures["state"] in CANCELLABLE_STATES
        }
        changed = sorted(pk for pk in now if as_shown.get(pk) != now[pk])
        if not changed:
            return as_shown, False
        numbers = dict(Invoice.objects.filter(pk__in=changed).values_list("pk", "number"))
        changes = []
        for pk in changed:
            if pk in as_shown:
                what = "; ".join(figures_changes(shown=as_shown[pk], now=now[pk]))
            else:
                what = gettext("not listed to cancel on this page")
            changes.append(f"{numbers[pk]} ({what})")
        text = ngettext(
            "This invoice changed since this confirmation was shown: %(changes)s. Nothing was "
            "cancelled: check the figures again and continue.",
            "These invoices changed since this confirmation was shown: %(changes)s. Nothing was "
            "cancelled: check the figures again and continue.",
            len(changes),
        ) % {"changes": ", ".join(changes)}
        self.message_user(request, text, messages.WARNING)
        return as_shown, True

    def _cancel_invoices(self, request, *, ids, reason, channel, as_shown=None):
        """Cancel now and report in messages (response ``None``), or, when more invoices
        than ``ADMIN_BULK_CANCEL_ASYNC_THRESHOLD`` are to be cancelled (what will be skipped
        does not count), start a background bulk cancellation and redirect to its progress
        page: on a Celery worker, or without a broker in a thread of this process.
        ``as_shown``: each invoice's figures on the confirmation page, checked under its
        lock. Returns the response and the ids of invoices left alone because they changed
        since the page (a payment between the check before acting and the lock), to confirm
        again."""
        to_cancel = Invoice.objects.filter(pk__in=ids, state__in=CANCELLABLE_STATES).count()
        in_background = to_cancel > settings.ADMIN_BULK_CANCEL_ASYNC_THRESHOLD
        try:
            if in_background:
                outcome = bulk_cancellation_start(
                    invoice_ids=ids,
                    actor=request.user,
                    reason=reason,
                    channel=channel,
                    as_shown=as_shown,
                )
            else:
                outcome = invoices_cancel_each(
                    invoice_ids=ids,
                    actor=request.user,
                    reason=reason,
                    channel=channel,
                    time_budget=settings.ADMIN_BULK_CANCEL_TIME_BUDGET,
                    as_shown=as_shown,
                )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None, []
        if not in_background:
            self._report(request, outcome)
            outdated = [r.invoice_id for r in outcome if r.code == ConfirmationOutdated.code]
            return None, outdated
        text = ngettext(
            "Cancelling %(count)d invoice in the background.",
            "Cancelling %(count)d invoices in the background.",
            to_cancel,
        ) % {"count": to_cancel}
        if outcome.total > to_cancel:
            skipped = outcome.total - to_cancel
            text += " " + ngettext(
                "%(count)d selected invoice will be skipped: it cannot be cancelled.",
                "%(count)d selected invoices will be skipped: they cannot be cancelled.",
                skipped,
            ) % {"count": skipped}
        self.message_user(request, text, messages.INFO)
        return HttpResponseRedirect(
            reverse("admin:invoicing_invoice_bulk_cancellation", args=[outcome.pk])
        ), []

    def _report(self, request, results):
        """One success message (count and credit note numbers, linked when few), one
        warning per invoice skipped or failed, and one error listing those not attempted
        (the request's time ran out)."""
        credit_notes = sorted(
            (r.credit_note for r in results if r.credit_note is not None),
            key=lambda note: (note.location_id, note.sequence_number),
        )
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
        not_attempted = [
            r.invoice_label for r in results if r.outcome == BulkCancellationItem.Outcome.PENDING
        ]
        if not_attempted:
            text = ngettext(
                "Stopped part-way: the time allowed for one request ran out. %(count)d "
                "invoice was not attempted (nothing changed on it), select it again: %(list)s.",
                "Stopped part-way: the time allowed for one request ran out. %(count)d "
                "invoices were not attempted (nothing changed on them), select them again: "
                "%(list)s.",
                len(not_attempted),
            ) % {"count": len(not_attempted), "list": ", ".join(not_attempted)}
            self.message_user(request, text, messages.ERROR)
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
            "summary": self._bulk_summary(bulk),
            "results": [self._result_row(item) for item in results],
            "last_id": results[-1].pk if results else 0,
            "progress_url": reverse(
                "admin:invoicing_invoice_bulk_cancellation_progress", args=[bulk.pk]
            ),
            "can_requeue": (
                self.has_cancel_permission(request) and bulk_cancellation_stalled(bulk=bulk)
            ),
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
                "summary": self._bulk_summary(bulk),
            }
        )

    @staticmethod
    def _bulk_summary(bulk: BulkCancellation) -> list[str]:
        """Once a bulk cancellation is done, what it did in a few sentences: how many were
        cancelled, how many skipped and why, how many failed and with what reason."""
        if bulk.status != BulkCancellation.Status.DONE:
            return []
        outcomes = bulk_cancellation_outcomes(bulk=bulk)
        lines = [
            ngettext(
                "%(count)d invoice cancelled.", "%(count)d invoices cancelled.", outcomes.cancelled
            )
            % {"count": outcomes.cancelled}
        ]
        lines += [
            ngettext("%(count)d skipped: %(reason)s.", "%(count)d skipped: %(reason)s.", count)
            % {"count": count, "reason": reason}
            for reason, count in outcomes.skipped
        ]
        if outcomes.failed_count:
            failures = "; ".join(f"{invoice}: {reason}" for invoice, reason in outcomes.failed)
            if outcomes.failed_count > len(outcomes.failed):
                failures += "; …"
            lines.append(
                ngettext(
                    "%(count)d failed, nothing changed on it (%(list)s).",
                    "%(count)d failed, nothing changed on them (%(list)s).",
                    outcomes.failed_count,
                )
                % {"count": outcomes.failed_count, "list": failures}
            )
        return lines

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


admin.site.unregister(Invoice)
admin.site.register(Invoice, CancellableInvoiceAdmin)
