"""The invoice list's filters: by customer, by amount due (typed, read exactly), overdue."""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coworking.admin import InputFilter
from coworking.money import AmountNotReadable, amount_example, parse_amount
from invoicing.models import Invoice

OPEN_STATES = (Invoice.State.ISSUED, Invoice.State.PARTIALLY_PAID)


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
