"""Quantities and rates are written one way (``coworking.l10n.human_number``): no trailing
zeros, never an exponent, the separators of the reader's language; for machines, plain
(``plain_number``). Where they are written (admin, API, PDFs, e-invoices): tests/documents."""

from decimal import Decimal

import pytest
from django.utils import translation

from coworking.l10n import human_number, plain_number

NBSP, NNBSP = "\u00a0", "\u202f"

# value as stored (with the field's decimals) → how each language writes it
WRITTEN = {
    "10.000": {"en": "10", "fr": "10", "nl": "10"},
    "20.00": {"en": "20", "fr": "20", "nl": "20"},
    "100.00": {"en": "100", "fr": "100", "nl": "100"},
    "1000.000": {"en": "1,000", "fr": f"1{NNBSP}000", "nl": "1.000"},
    "1.500": {"en": "1.5", "fr": "1,5", "nl": "1,5"},
    "0.500": {"en": "0.5", "fr": "0,5", "nl": "0,5"},
}


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
@pytest.mark.parametrize("value", list(WRITTEN))
def test_a_number_has_no_exponent_no_trailing_zero_and_the_languages_separators(value, language):
    expected = WRITTEN[value][language]
    assert human_number(Decimal(value), language=language) == expected
    assert human_number(Decimal(value).normalize(), language=language) == expected
    with translation.override(language):
        assert human_number(Decimal(value)) == expected
    sign = {"en": "%", "fr": f"{NBSP}%", "nl": "%"}[language]
    assert human_number(Decimal(value), language=language, percent=True) == expected + sign


@pytest.mark.parametrize("value", list(WRITTEN))
def test_a_number_for_machines_is_plain(value):
    text = plain_number(Decimal(value))
    assert "E" not in text and "," not in text
    assert Decimal(text) == Decimal(value)
    assert text == {"10.000": "10", "20.00": "20", "100.00": "100", "1000.000": "1000"}.get(
        value, text
    )
