"""The invoice admin as the credits app extends it and registers it in place of
``invoicing.admin.InvoiceAdmin``: the credit notes of each invoice (list column, banner and
list on its page), the cancel workflow, the progress of background bulk cancellations and
the partial credit note workflow.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import F, FilteredRelation, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credits.admin.bulk import BulkCancellationProgressMixin
from credits.admin.issue_credit_note import IssueCreditNoteAdminMixin
from credits.models import CreditNote
from credits.policies import cancel_refusal
from invoicing.admin.invoices import InvoiceAdmin
from invoicing.models import Invoice


class CancellableInvoiceAdmin(
    BulkCancellationProgressMixin, IssueCreditNoteAdminMixin, InvoiceAdmin
):
    """The invoice admin with the credit note of each cancelled invoice (list column, banner
    on its page), for staff with ``invoicing.cancel_invoice`` the cancel workflow, and for
    staff with ``invoicing.issue_credit_note`` the partial credit note workflow
    (``credits.admin.issue_credit_note``)."""

    list_display = [*InvoiceAdmin.list_display, "credit_note_column"]
    actions = [*InvoiceAdmin.actions, "cancel_selected"]
    change_form_template = "admin/invoicing/invoice/change_form_with_credits.html"

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

    def change_page_context(self, request, obj) -> dict:
        """The invoice's credit notes, what is left to credit, and on a cancelled invoice the
        note that cancelled it (a banner)."""
        context = super().change_page_context(request, obj)
        notes = list(
            CreditNote.objects.filter(invoice_id=obj.pk)
            .only("pk", "number", "issue_date", "total", "total_currency", "cancels_invoice")
            .order_by("pk")
        )
        context["credit_notes"] = notes
        context["creditable"] = obj.amount_creditable
        if obj.state == Invoice.State.CANCELLED:
            context["credit_note"] = next((n for n in notes if n.cancels_invoice), None)
        return context


admin.site.unregister(Invoice)
admin.site.register(Invoice, CancellableInvoiceAdmin)
