"""The staff "Cancel invoice" workflow of the invoice admin.

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

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, npgettext
from django.utils.translation import gettext_lazy as _

from coworking.admin import ChangePageMixin
from coworking.errors import ApplicationError
from credits.admin.confirmation import sign_figures, unsign_figures
from credits.errors import ConfirmationOutdated
from credits.models import BulkCancellationItem
from credits.policies import CANCEL_PERMISSION, CANCELLABLE_STATES, cancel_refusal
from credits.selectors import (
    figures_changes,
    invoice_cancellation_preview,
    invoice_figures,
    invoices_digest,
    invoices_figures,
)
from credits.services.bulk import bulk_cancellation_start, invoices_cancel_each
from credits.services.requests import REASON_MAX_LENGTH
from invoicing.models import Channel, Invoice

# Up to this many credit notes are linked one by one in the success message.
LINKED_CREDIT_NOTES_MAX = 10
# The confirmation page lists at most this many invoices (totals always cover them all).
CONFIRMATION_ROWS_MAX = 500


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


class CancelInvoiceAdminMixin(ChangePageMixin):
    """For the invoice admin: the cancel action, the row link and page button it shares a
    confirmation page with, for staff with ``invoicing.cancel_invoice``."""

    cancel_confirmation_template = "admin/invoicing/invoice/cancel_confirmation.html"

    def has_cancel_permission(self, request, obj=None):
        """The custom model permission ``invoicing.cancel_invoice``."""
        return request.user.has_perm(CANCEL_PERMISSION)

    def change_page_context(self, request, obj) -> dict:
        context = super().change_page_context(request, obj)
        if cancel_refusal(invoice=obj) is None and self.has_cancel_permission(request, obj):
            context["cancel_url"] = (
                reverse("admin:invoicing_invoice_cancel", args=[obj.pk]) + "?origin=change"
            )
        return context

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/cancel/", view(self.cancel_view), name="invoicing_invoice_cancel"
            ),
            *super().get_urls(),
        ]

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
