"""``{% load numbers %}``: ``{{ line.quantity|number }}`` and ``{{ line.tax_rate|percent }}``
write a quantity or a rate the project's one way (``coworking.l10n.format_number``), in the
active language."""

from django import template

from coworking.l10n import human_number

register = template.Library()


@register.filter
def number(value):
    """A quantity (or any rate in a sentence that writes its own ``%``): ``1.5``, ``1,5``."""
    if value is None or value == "":
        return ""
    return human_number(value)


@register.filter
def percent(value):
    """A tax rate with the language's percent sign: ``20%``, ``20 %``."""
    if value is None or value == "":
        return ""
    return human_number(value, percent=True)
