"""The admin's **Issue credit note** workflow on an invoice's page, and the preview PDF.

Three steps on one URL (``<id>/credit-note/``), built from Django forms and a formset: GET
shows the invoice's lines with what each has left to credit, a quantity per line, an
optional amount line, reason, reason code and where any excess goes; a POST shows the credit
note as ``credits.services.credit_note_preview`` computes it (nothing written); posting that
page again with ``post=yes`` issues it through ``credit_note_issue``, only if the note is
still exactly the one the page showed: the page carries its figures (paid, credited, due, the
allocation, a digest of the lines; signed, ``confirmation``), and the service compares them
with the note it would issue, under the invoice's lock. When they differ (a payment or a
note meanwhile, or a double submit) nothing is issued and the recomputed confirmation is
shown again with a message saying what changed. Bad input comes back as form errors; an
error of the service (a concurrent note took the line...) as a form error too, with nothing
written.

``<id>/credit-note-preview/`` serves the PDF of the unsaved note (the same renderer as the
stored PDF, marked as a preview, without a number): the same query as the form, or
``?cancel=1`` for what cancelling the invoice would issue. It writes nothing.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from coworking.admin import ChangePageMixin
from coworking.decimals import PlainDecimalFormField
from coworking.documents.rendering import PdfRenderError
from coworking.errors import ApplicationError
from coworking.l10n import human_number
from coworking.text import single_line
from credits.admin.confirmation import sign_figures, unsign_figures
from credits.errors import ConfirmationOutdated
from credits.models import ReasonCode
from credits.pdf import credit_note_pdf_bytes
from credits.policies import CANCEL_PERMISSION, CREDIT_PERMISSION, credit_refusal
from credits.selectors import invoice_creditable
from credits.services.issue import credit_note_issue
from credits.services.preview import credit_note_preview
from credits.services.requests import (
    DESCRIPTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    Allocation,
    AmountCredit,
    LineCredit,
    Rest,
)
from invoicing.models import Channel


class CreditLineForm(forms.Form):
    """One invoice line: how much of it to credit (empty or 0: none)."""

    invoice_line = forms.IntegerField(widget=forms.HiddenInput)
    quantity = PlainDecimalFormField(
        label=_("Quantity to credit"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "style": "width: 7em"}),
    )


CreditLineFormSet = forms.formset_factory(CreditLineForm, extra=0, max_num=1000)


class CreditNoteForm(forms.Form):
    """Everything but the lines: an amount line, the reason and where the excess goes."""

    amount = PlainDecimalFormField(
        label=_("Amount (net)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Optional: a net amount to credit, tax added at the rate chosen."),
    )
    tax_rate = forms.ChoiceField(label=_("At tax rate"), required=False)
    description = forms.CharField(
        label=_("Description of the amount"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=[single_line],
    )
    reason_code = forms.ChoiceField(
        label=_("Reason code"), choices=ReasonCode.choices, initial=ReasonCode.OTHER
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Internal: recorded on the credit note and in the audit trail, not printed."),
    )
    excess = forms.ChoiceField(
        label=_("Beyond what is due, the credit becomes"),
        choices=Rest.choices,
        initial=Rest.ACCOUNT_CREDIT,
        widget=forms.RadioSelect,
        help_text=_(
            "A credit note first reduces what is still due on the invoice; what it credits "
            "beyond that (the invoice was paid) is account credit, a refund paid back to the "
            "customer, or settled outside the system."
        ),
    )

    def __init__(self, *args, rates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].choices = [
            (str(rate), human_number(rate, percent=True)) for rate in rates
        ]
        if len(rates) == 1:
            self.fields["tax_rate"].initial = str(rates[0])

    def clean(self):
        data = super().clean()
        if data.get("amount") is not None and not data.get("tax_rate"):
            self.add_error("tax_rate", gettext("Choose the tax rate of the amount."))
        return data

    def service_kwargs(self, *, lines: CreditLineFormSet, currency: str) -> dict:
        """The arguments of ``credit_note_issue`` (and its preview) these forms ask for."""
        data = self.cleaned_data
        amount = None
        if data["amount"] is not None:
            amount = AmountCredit(
                value=Money(data["amount"], currency),
                tax_rate=Decimal(data["tax_rate"]),
                description=data["description"],
            )
        return {
            "lines": [
                LineCredit(invoice_line=row["invoice_line"], quantity=row["quantity"])
                for row in lines.cleaned_data
                if row.get("quantity")
            ],
            "amount": amount,
            "reason": data["reason"],
            "reason_code": data["reason_code"],
            "allocation": Allocation(rest=data["excess"]),
        }


class IssueCreditNoteAdminMixin(ChangePageMixin):
    """For the invoice admin: the **Issue credit note** workflow and the preview PDF."""

    issue_credit_note_template = "admin/invoicing/invoice/issue_credit_note.html"

    def has_issue_credit_note_permission(self, request, obj=None):
        """The custom model permission ``invoicing.issue_credit_note``."""
        return request.user.has_perm(CREDIT_PERMISSION)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/credit-note/",
                view(self.issue_credit_note_view),
                name="invoicing_invoice_issue_credit_note",
            ),
            path(
                "<path:object_id>/credit-note-preview/",
                view(self.credit_note_preview_view),
                name="invoicing_invoice_credit_note_preview",
            ),
            *super().get_urls(),
        ]

    def change_page_context(self, request, obj) -> dict:
        context = super().change_page_context(request, obj)
        if credit_refusal(invoice=obj) is None and self.has_issue_credit_note_permission(
            request, obj
        ):
            context["issue_credit_note_url"] = reverse(
                "admin:invoicing_invoice_issue_credit_note", args=[obj.pk]
            )
        return context

    def _creditable_invoice(self, request, object_id):
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None:
            raise Http404(gettext("No such invoice."))
        return invoice

    @staticmethod
    def _credit_forms(creditable, data):
        rates = list(creditable.rates)
        lines = CreditLineFormSet(
            data, initial=[{"invoice_line": line.id} for line in creditable.lines]
        )
        return CreditNoteForm(data, rates=rates), lines

    def issue_credit_note_view(self, request, object_id):
        """GET: the form. POST: the confirmation (the note as it would be issued); POST with
        ``post=yes``: issue it and go back to the invoice. ``edit`` goes back to the form."""
        if not self.has_issue_credit_note_permission(request):
            raise PermissionDenied
        invoice = self._creditable_invoice(request, object_id)
        invoice_url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
        refusal = credit_refusal(invoice=invoice)
        if refusal is not None:
            self.message_user(request, refusal.message, messages.ERROR)
            return redirect(invoice_url)
        creditable = invoice_creditable(invoice=invoice)
        data = request.POST if request.method == "POST" else None
        form, lines = self._credit_forms(creditable, data)
        if data is not None and lines.total_form_count() != len(creditable.lines):
            # Posted for other lines than the invoice has (a page out of date, or forged).
            self.message_user(
                request,
                gettext(
                    "The form did not match the lines of %(number)s: nothing was issued. "
                    "Fill it in again."
                )
                % {"number": invoice.number},
                messages.ERROR,
            )
            data = None
            form, lines = self._credit_forms(creditable, data)
        preview = None
        if data is not None and "edit" not in data and form.is_valid() and lines.is_valid():
            kwargs = form.service_kwargs(lines=lines, currency=invoice.currency)
            actor = {"actor": request.user, "channel": Channel.ADMIN}
            try:
                note = None
                if data.get("post") == "yes":
                    note = self._issue_as_shown(request, invoice, kwargs, actor)
                if note is None:
                    preview = credit_note_preview(invoice=invoice, **kwargs, **actor)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                if preview is None:
                    self.message_user(
                        request,
                        gettext("Issued credit note %(number)s (%(total)s) on %(invoice)s.")
                        % {"number": note.number, "total": note.total, "invoice": invoice.number},
                        messages.SUCCESS,
                    )
                    return redirect(invoice_url)
        query = data.copy() if data is not None else None
        if query is not None:
            for name in ("csrfmiddlewaretoken", "post", "edit"):
                query.pop(name, None)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Issue credit note on %(number)s") % {"number": invoice.number},
            "subtitle": None,
            "opts": self.opts,
            "original": invoice,
            "invoice_url": invoice_url,
            "form": form,
            "lines": lines,
            "rows": list(zip(lines.forms, creditable.lines, strict=True)),
            "creditable": creditable,
            "preview": preview,
            "confirmation": sign_figures(preview.figures) if preview is not None else "",
            "preview_pdf_url": (
                reverse("admin:invoicing_invoice_credit_note_preview", args=[invoice.pk])
                + "?"
                + query.urlencode()
                if preview is not None
                else ""
            ),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.issue_credit_note_template, context)

    def _issue_as_shown(self, request, invoice, kwargs, actor):
        """Issue the note the confirmation page showed; ``None`` (and a message saying what
        changed) when it is no longer that note, so the page is computed and shown again."""
        shown = unsign_figures(request.POST.get("confirmation"))
        if shown is None:
            self.message_user(
                request,
                gettext("This confirmation page is out of date: check the credit note again."),
                messages.WARNING,
            )
            return None
        try:
            return credit_note_issue(invoice=invoice.pk, **kwargs, **actor, as_shown=shown)
        except ConfirmationOutdated as error:
            self.message_user(request, error.message, messages.WARNING)
            return None

    def credit_note_preview_view(self, request, object_id):
        """The PDF of the credit note the form's query (or ``cancel=1``) would issue, marked
        as a preview; nothing is written. Bad input: a message on the invoice's page."""
        invoice = self._creditable_invoice(request, object_id)
        cancel = request.GET.get("cancel") == "1"
        permission = CANCEL_PERMISSION if cancel else CREDIT_PERMISSION
        if not request.user.has_perm(permission):
            raise PermissionDenied
        actor = {"actor": request.user, "channel": Channel.ADMIN}
        try:
            if cancel:
                preview = credit_note_preview(invoice=invoice, everything_left=True, **actor)
            else:
                form, lines = self._credit_forms(invoice_creditable(invoice=invoice), request.GET)
                if not (form.is_valid() and lines.is_valid()):
                    raise PdfRenderError(gettext("The credit note asked for is not valid."))
                kwargs = form.service_kwargs(lines=lines, currency=invoice.currency)
                preview = credit_note_preview(invoice=invoice, **kwargs, **actor)
            pdf = credit_note_pdf_bytes(
                credit_note=preview.credit_note, lines=preview.lines, preview=True
            )
        except (ApplicationError, PdfRenderError) as error:
            self.message_user(request, getattr(error, "message", str(error)), messages.ERROR)
            return redirect(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="credit-note-preview-{invoice.number}.pdf"'
        )
        response["Cache-Control"] = "no-store"
        return response
