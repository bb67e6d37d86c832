"""Billable items: a location's price list, what staff pick on an invoice line.

Each item has a **supply kind** (``coworking.vat_rules.SupplyKind``): with the location's
country and the buyer it decides the line's VAT, so staff never type a category or a rate.
An item is never deleted once billed (lines point at it); it is retired with ``active``.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coworking.money import money_field
from coworking.text import single_line
from coworking.vat_rules import SupplyKind


class BillableItem(models.Model):
    location = models.ForeignKey(
        "coworking.Location",
        on_delete=models.PROTECT,
        related_name="billable_items",
        verbose_name=_("location"),
    )
    name = models.CharField(
        _("name"),
        max_length=200,
        validators=[single_line],
        help_text=_("The line's description on the invoice."),
    )
    supply_kind = models.CharField(_("supply kind"), max_length=20, choices=SupplyKind.choices)
    unit_price = money_field(_("unit price"))
    tax_rate = models.DecimalField(
        _("own tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Only for a reduced or zero rate (e.g. catering); empty: the country's standard rate."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    objects = models.Manager()

    class Meta:
        app_label = "coworking"
        ordering = ["location", "name"]
        verbose_name = _("billable item")
        verbose_name_plural = _("billable items")
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="billable_item_name_unique"),
            models.CheckConstraint(
                condition=Q(tax_rate__isnull=True) | Q(tax_rate__gte=0, tax_rate__lt=100),
                name="billable_item_tax_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="billable_item_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})" if self.location_id else self.name
