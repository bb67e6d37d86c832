"""Background bulk cancellations: their list, and for the invoice admin the progress page
with the endpoint it polls.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from coworking.admin import ReadOnlyAdminMixin
from credits.admin.cancel import CancelInvoiceAdminMixin
from credits.models import BulkCancellation, BulkCancellationItem
from credits.selectors import (
    bulk_cancellation_outcomes,
    bulk_cancellation_progress,
    bulk_cancellation_results,
    bulk_cancellation_stalled,
)
from credits.services.bulk import queue_bulk_cancellation

# Results per poll of the progress endpoint, and on the progress page itself.
PROGRESS_RESULTS_PER_POLL = 200
PROGRESS_RESULTS_ON_PAGE = 1000


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


class BulkCancellationProgressMixin(CancelInvoiceAdminMixin):
    """For the invoice admin: the cancel workflow, with the progress page of the selections
    it cancels in the background and the JSON endpoint that page polls, both read from the
    database."""

    bulk_progress_template = "admin/invoicing/invoice/bulk_cancel_progress.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
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
            % {"count": count, "reason": _readers_language(reason)}
            for reason, count in outcomes.skipped
        ]
        if outcomes.failed_count:
            failures = "; ".join(
                f"{invoice}: {_readers_language(reason)}" for invoice, reason in outcomes.failed
            )
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
            "message": _readers_language(item.message),
        }


def _readers_language(stored: str) -> str:
    """A reason as the runner stored it, in the language it ran in (English on a worker),
    in the reader's language when it is one of the catalog's texts."""
    return gettext(stored) if stored else ""
