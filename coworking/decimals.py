"""Decimal input as people write it: ASCII digits, at most one point, an optional sign.

``Decimal()`` (behind Django's and DRF's decimal fields) also takes exponents ("1E+2" is a
hundred), "NaN"/"Infinity" and digits of other scripts ("١٠" is ten). A quantity typed as
"1E+2" crediting 100 units is a mistake nobody sees on the confirmation page, so every
quantity and amount a person types is refused unless it is written out plainly.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
NOT_PLAIN = _("Enter a number with the digits 0-9 and a decimal point, e.g. 2.5 (no exponent).")


def is_plain_decimal(value) -> bool:
    """Whether ``value`` (as typed or parsed) is a plainly written number."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    text = str(value).strip()
    return PLAIN_DECIMAL.fullmatch(text) is not None


def clean_decimal(value, *, field: str, error: type[Exception]) -> Decimal:
    """A number handed to a service as a finite ``Decimal``; a float or a bool (binary,
    inexact), or anything that is no finite number, raises ``error`` naming ``field``."""
    if isinstance(value, float | bool):
        raise error(gettext("%(what)s must be a decimal number.") % {"what": field})
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise error(gettext("%(what)s is not a number.") % {"what": field}) from None
    if not result.is_finite():
        raise error(gettext("%(what)s is not a number.") % {"what": field})
    return result


def _number_not_plain(value) -> bool:
    """A number ``Decimal`` reads but a person would not write so; anything that is no
    number at all is left to the field's own "enter a number" message."""
    if is_plain_decimal(value):
        return False
    try:
        Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return False
    return True


class PlainDecimalFormField(forms.DecimalField):
    """Django's ``DecimalField`` refusing exponents and non-ASCII digits."""

    def to_python(self, value):
        if value not in self.empty_values and _number_not_plain(value):
            raise forms.ValidationError(NOT_PLAIN, code="invalid")
        return super().to_python(value)


class PlainDecimalField(serializers.DecimalField):
    """DRF's ``DecimalField`` refusing exponents and non-ASCII digits."""

    default_error_messages = {"not_plain": NOT_PLAIN}

    def to_internal_value(self, data):
        if _number_not_plain(data):
            self.fail("not_plain")
        return super().to_internal_value(data)
