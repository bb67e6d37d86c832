"""Payments, recorded through ``payment_record`` (never changed afterwards)."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from coworking.admin import IndexedSearchMixin, ListTitleMixin, money_display
from coworking.errors import ApplicationError
from invoicing.models import Invoice, Payment
from invoicing.services.payments import payment_check, payment_record


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
class PaymentAdmin(IndexedSearchMixin, ListTitleMixin, admin.ModelAdmin):
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
