"""One small hierarchy of business errors, mapped once to admin messages, API problems and
command-line exits.

Each concrete error has a stable ``code`` from its app's ``error_codes`` (part of the API
contract) and a human sentence. The category base classes tell the surfaces how to report
it: a conflict with the current state (HTTP 409), invalid input (422), something that does
not exist (404), an action the user may not take (403) or a dependency that is not
available (503). Each app's errors live in its ``errors.py``.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from coworking.error_codes import CoworkingErrorCode as Code


class ApplicationError(Exception):
    # Each app's codes are its own enum of strings (``<app>/error_codes.py``).
    code: str = Code.APPLICATION_ERROR
    default_message: str | Promise = _("The operation could not be completed.")
    # Set on refusals that mean "nothing to do" rather than "something went wrong": the
    # short text a bulk run reports for an item it skips.
    skip_reason: str | Promise = ""

    def __init__(self, message: str | None = None, **extra):
        self.message = str(message or self.default_message)
        self.extra = extra
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    code: str = Code.INVALID_INPUT
    default_message: str | Promise = _("The input is not valid.")


class StateConflict(ApplicationError):
    code: str = Code.STATE_CONFLICT
    default_message: str | Promise = _("The document is not in a state that allows this.")


class NotFound(ApplicationError):
    code: str = Code.NOT_FOUND
    default_message: str | Promise = _("Not found.")


class NotAllowed(ApplicationError):
    code: str = Code.NOT_ALLOWED
    default_message: str | Promise = _("You are not allowed to do this.")


class Unavailable(ApplicationError):
    code: str = Code.UNAVAILABLE
    default_message: str | Promise = _("A service this needs is not available; try again later.")
    retry_after = 5  # seconds, the ``Retry-After`` of the 503


class CurrencyMismatch(InvalidInput):
    code: str = Code.CURRENCY_MISMATCH
    default_message: str | Promise = _("Amounts in different currencies cannot be combined.")


class PdfNotReady(StateConflict):
    code: str = Code.PDF_NOT_READY
    default_message: str | Promise = _(
        "The PDF of this document is not ready yet; try again in a minute."
    )


class PdfUnavailable(Unavailable):
    code: str = Code.PDF_UNAVAILABLE
    default_message: str | Promise = _(
        "The PDF of this document cannot be served right now; it is being rendered again. "
        "Try again in a minute."
    )
    retry_after = 60


class IdempotencyKeyInvalid(InvalidInput):
    code: str = Code.IDEMPOTENCY_KEY_INVALID
    default_message: str | Promise = _(
        "The Idempotency-Key header must be 1 to 255 printable ASCII characters, e.g. a UUID."
    )


class IdempotencyKeyReused(InvalidInput):
    code: str = Code.IDEMPOTENCY_KEY_REUSED
    default_message: str | Promise = _(
        "This Idempotency-Key was already used for a different request; use a new key."
    )


class IdempotencyKeyInUse(StateConflict):
    code: str = Code.IDEMPOTENCY_KEY_IN_USE
    default_message: str | Promise = _(
        "A request with this Idempotency-Key is still being processed; retry in a moment."
    )
