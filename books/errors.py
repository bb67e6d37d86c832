"""The books' errors (see ``coworking.errors``)."""

from django.utils.translation import gettext_lazy as _

from books.error_codes import BooksErrorCode as Code
from coworking.errors import InvalidInput, StateConflict


class PeriodClosed(StateConflict):
    code = Code.PERIOD_CLOSED
    default_message = _("The accounting period is closed: nothing more can be posted in it.")


class InvalidPeriod(InvalidInput):
    code = Code.PERIOD_INVALID
    default_message = _("This period cannot be closed.")


class InvalidExport(InvalidInput):
    code = Code.EXPORT_INVALID
    default_message = _("This export cannot be made.")
