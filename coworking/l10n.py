"""Which CLDR locale formats numbers, amounts and dates for a language.

Operators are in Europe: English follows British conventions (day-month-year, 24-hour
clock, ``€1,975.63``); French, German and Dutch those of France, Germany and the
Netherlands. Django's own formats for the admin follow the same choice
(``coworking/formats/``), and documents (PDFs, e-mails) use Babel with these locales.
"""

from django.conf import settings
from django.utils import translation

CLDR_LOCALES = {"en": "en_GB", "fr": "fr_FR", "de": "de_DE", "nl": "nl_NL"}


def cldr_locale(language: str | None = None) -> str:
    """The CLDR locale of ``language`` (the active language by default): ``en`` → ``en_GB``."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return CLDR_LOCALES.get(language.lower(), translation.to_locale(language))
