"""The customer's account page with what invoicing knows: the account credit available, the
credit applied to each invoice and the printable statement of a period.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from coworking.admin import CustomerAdmin, LanguageDateInput, account_figures_html
from coworking.documents.rendering import PdfRenderError
from coworking.errors import ApplicationError
from coworking.models import Customer
from invoicing.admin.statements import PreparedStatementMixin, statement_filename
from invoicing.selectors import (
    available_credit,
    credit_applied_by_invoice,
    customers_with_available_credit,
)
from invoicing.services.statements import statement_request
from invoicing.statements import (
    customer_statement_pdf_bytes,
    statement_is_long,
    statement_period_error,
)


class StatementForm(forms.Form):
    """The statement's period, typed as the admin's language writes dates."""

    start = forms.DateField(widget=LanguageDateInput)
    end = forms.DateField(widget=LanguageDateInput)

    def clean(self):
        data = super().clean()
        if error := statement_period_error(start=data.get("start"), end=data.get("end")):
            raise forms.ValidationError(error)
        return data


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerAccountAdmin(PreparedStatementMixin, CustomerAdmin):
    """The customer's account page (``coworking.admin.CustomerAdmin``) with what invoicing
    knows: the account credit available per currency (``available_credit``) beside the
    balance, the credit applied to each invoice of the ledger (payments from account credit
    are not ledger entries: they move credit onto an invoice, not the balance), and the
    printable statement of a period (``invoicing.statements``; a long one is prepared in the
    background, ``PreparedStatementMixin``)."""

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
            invoice_ids=[row["entry"].invoice.pk for row in rows if row["entry"].kind == "invoice"]
        )
        for row in rows:
            if row["entry"].kind == "invoice":
                row["credit_applied"] = applied.get(row["entry"].invoice.pk)
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
        a PDF download, or, when it is longer than one part (``statement_is_long``), its
        page while a task prepares it; a period that is not one goes back to the page with a
        message."""
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
            if statement_is_long(customer=customer, start=start, end=end):
                statement = statement_request(
                    customer=customer, start=start, end=end, actor=request.user
                )
                return redirect(self.prepared_statement_url(statement))
            data = customer_statement_pdf_bytes(
                customer=customer, start=start, end=end, today=timezone.localdate()
            )
        except (ApplicationError, PdfRenderError) as error:
            self.message_user(request, getattr(error, "message", str(error)), messages.ERROR)
            return redirect(reverse("admin:coworking_customer_change", args=[customer.pk]))
        response = HttpResponse(data, content_type="application/pdf")
        filename = statement_filename(customer, start, end)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
