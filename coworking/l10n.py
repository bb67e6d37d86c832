"""Which CLDR locale formats numbers, amounts and dates for a language.

Operators are in Europe: English follows British conventions (day-month-year, 24-hour
clock, ``€1,975.63``); French, German and Dutch those of France, Germany and the
Netherlands. Django's own formats for the admin follow the same choice
(``coworking/formats/``), and documents (PDFs, e-mails) use Babel with these locales.
"""

from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from django.conf import settings
from django.utils import translation

CLDR_LOCALES = {"en": "en_GB", "fr": "fr_FR", "de": "de_DE", "nl": "nl_NL"}


def cldr_locale(language: str | None = None) -> str:
    """The CLDR locale of ``language`` (the active language by default): ``en`` → ``en_GB``."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return CLDR_LOCALES.get(language.lower(), translation.to_locale(language))


def human_number(value, *, language: str | None = None, percent: bool = False) -> str:
    """The one way a quantity or a rate (tax or exchange rate) is written for people: every
    significant digit and no trailing zero, never an exponent, with the separators of the
    language (the active one by default): ``1000`` → ``1,000`` (en), ``1 000`` (fr),
    ``1.000`` (nl); ``1.500`` → ``1.5``, ``1,5``. ``percent`` adds the language's percent
    sign: ``20 %`` in French, ``20%`` in English and Dutch.

    ``Decimal.normalize()`` is not a format (``20.00`` becomes ``2E+1``), and Django's
    ``floatformat`` keeps a fixed number of decimals (``1,500`` for one and a half in
    French). Separators are non-breaking, so a number never wraps. Machine formats (XML,
    form values) use :func:`plain_number` instead.
    """
    number = Decimal(value)
    locale = cldr_locale(language)
    if percent:
        return format_percent(number / 100, locale=locale, decimal_quantization=False)
    return format_decimal(number, locale=locale, decimal_quantization=False)


def plain_number(value) -> str:
    """A quantity or rate for machines (XML, a form's input value): the shortest plain
    decimal, ``.`` for the point, no grouping, no exponent: ``1.500`` → ``1.5``,
    ``1000.000`` → ``1000`` (``normalize()`` alone would write ``1E+3``)."""
    return format(Decimal(value).normalize(), "f")
