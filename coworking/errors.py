"""One small hierarchy of business errors, mapped once to admin messages, API problems and
command-line exits.

Each concrete error has a stable ``code`` (part of the API contract) and a human sentence.
The category base classes tell the surfaces how to report it: a conflict with the current
state (HTTP 409), invalid input (422), something that does not exist (404), an action the
user may not take (403) or something temporarily unavailable that the system is repairing
(503).
"""

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    code = "application_error"
    default_message = _("The operation could not be completed.")
    # Set on refusals that mean "nothing to do" rather than "something went wrong": the
    # short text a bulk run reports for an item it skips.
    skip_reason = ""

    def __init__(self, message: str | None = None, **extra):
        self.message = str(message or self.default_message)
        self.extra = extra
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    code = "invalid_input"
    default_message = _("The input is not valid.")


class StateConflict(ApplicationError):
    code = "state_conflict"
    default_message = _("The document is not in a state that allows this.")


class NotFound(ApplicationError):
    code = "not_found"
    default_message = _("Not found.")


class NotAllowed(ApplicationError):
    code = "not_allowed"
    default_message = _("You are not allowed to do this.")


class Unavailable(ApplicationError):
    """Not the caller's fault and not for long: something the system repairs by itself."""

    code = "unavailable"
    default_message = _("This is not available right now; try again in a minute.")


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"
    default_message = _("Amounts in different currencies cannot be combined.")
