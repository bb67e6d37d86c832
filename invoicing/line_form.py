"""The invoice line form of the admin: staff pick a billable item and the VAT rules decide
the line's VAT (``invoicing.line_vat``); a category or rate typed over it is an override,
which needs its reason. Description, price and rate may be left empty for an item."""

from django import forms
from django.utils.translation import gettext_lazy as _

from coworking.billable_items import BillableItem
from invoicing.document_allowances import AllowanceChargeInput
from invoicing.models import InvoiceAllowanceCharge, InvoiceLine
from invoicing.services import LineInput

_FROM_ITEM = ("description", "unit_price", "tax_rate", "vat_category")
_ALLOWANCE = ("allowance", "allowance_percent", "allowance_reason", "allowance_reason_code")
_VAT = ("tax_rate", "vat_category", "vat_exemption_reason", "vat_exemption_reason_code")


class InvoiceLineForm(forms.ModelForm):
    class Meta:
        model = InvoiceLine
        fields = [
            "billable_item", "description", "quantity", "unit_price", "tax_rate",
            "vat_category", "vat_exemption_reason", "vat_exemption_reason_code",
            "vat_override_reason", "period_start", "period_end",
            "allowance", "allowance_percent", "allowance_reason", "allowance_reason_code",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        item_field = self.fields.get("billable_item")
        if isinstance(item_field, forms.ModelChoiceField):
            item_field.queryset = BillableItem.objects.filter(active=True).select_related(
                "location"
            )
            item_field.help_text = _(
                "What is sold: its supply kind decides the VAT. Leave the rate and category "
                "empty to take what the rules give."
            )
        for name in (*_FROM_ITEM, *_ALLOWANCE):
            if name in self.fields:
                self.fields[name].required = False

    def _get_validation_exclusions(self):
        # The service decides and checks the VAT, naming the line and the rule; the model's
        # check constraints would only repeat it under a constraint's name.
        exclusions = super()._get_validation_exclusions()  # type: ignore[misc]
        return exclusions | set(_VAT) | set(_ALLOWANCE)

    def line_input(self) -> LineInput:
        """The line as the service takes it. For an item, the VAT fields count only when
        staff changed them (an override); otherwise the rules decide again."""
        data = self.cleaned_data
        item = data.get("billable_item")
        typed = not item or any(name in self.changed_data for name in _VAT)
        price = data.get("unit_price")
        return LineInput(
            description=data.get("description") or "",
            quantity=data["quantity"],
            unit_price=price if price is not None and (not item or price.amount) else None,
            tax_rate=data.get("tax_rate") if typed else None,
            vat_category=(data.get("vat_category") or None) if typed else None,
            vat_exemption_reason=data.get("vat_exemption_reason", "") if typed else "",
            vat_exemption_reason_code=data.get("vat_exemption_reason_code", "") if typed else "",
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
            billable_item=item,
            vat_override_reason=data.get("vat_override_reason", ""),
            allowance=data.get("allowance") or None,
            allowance_percent=data.get("allowance_percent"),
            allowance_reason=data.get("allowance_reason", ""),
            allowance_reason_code=data.get("allowance_reason_code", ""),
        )


class AllowanceChargeForm(forms.ModelForm):
    """A document level discount or charge of a draft: an amount or a percentage of its
    VAT breakdown's lines; its VAT may be left empty when the lines have one rate."""

    class Meta:
        model = InvoiceAllowanceCharge
        fields = [
            "kind", "amount", "percent", "vat_category", "tax_rate", "reason", "reason_code",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("amount", "percent", "vat_category", "tax_rate", "reason", "reason_code"):
            if name in self.fields:  # read-only once issued
                self.fields[name].required = False

    def _get_validation_exclusions(self):
        # The service checks the row against the lines, naming it and the rule.
        exclusions = super()._get_validation_exclusions()  # type: ignore[misc]
        return exclusions | set(self.Meta.fields)

    def allowance_input(self) -> AllowanceChargeInput:
        data = self.cleaned_data
        percent = data.get("percent")
        return AllowanceChargeInput(
            kind=data.get("kind") or "allowance",
            amount=data.get("amount") if percent is None else None,
            percent=percent,
            vat_category=data.get("vat_category") or "",
            tax_rate=data.get("tax_rate"),
            reason=data.get("reason", ""),
            reason_code=data.get("reason_code", ""),
        )
