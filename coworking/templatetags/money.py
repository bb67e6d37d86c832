"""``{% load money %}``: ``{{ invoice.total|money }}`` writes an amount the project's one way
(``coworking.money.money_html``); ``{{ amount|money_text }}`` without the HTML element."""

from django import template

from coworking.money import format_money, money_html

register = template.Library()


@register.filter
def money(value, currency=None):
    """A ``Money`` (or a ``Decimal`` with ``currency``) as a non-wrapping element."""
    if value is None or value == "":
        return ""
    return money_html(value, currency)


@register.filter
def money_text(value, currency=None):
    """A ``Money`` (or a ``Decimal`` with ``currency``) as plain text, for e-mails."""
    if value is None or value == "":
        return ""
    return format_money(value, currency)
