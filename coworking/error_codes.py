"""The stable error codes of coworking, the project-wide ones (Saleor's ``error_codes.py`` is
the model). Every ``ApplicationError`` carries a code from its app's ``error_codes`` list;
codes are part of the API contract: add new ones, never rename or reuse one.

The API's full list (these and every app's) is generated into the OpenAPI schema, under the
``code`` of a ``Problem`` (``coworking.api.schema``), and a test checks that no code in a
list is unused and none that an error carries is missing from them.
"""

from enum import StrEnum


class CoworkingErrorCode(StrEnum):
    # Categories: the code of a refusal that has no more specific one.
    APPLICATION_ERROR = "application_error"
    INVALID_INPUT = "invalid_input"
    STATE_CONFLICT = "state_conflict"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    UNAVAILABLE = "unavailable"
    # Money.
    CURRENCY_MISMATCH = "currency_mismatch"
    # API idempotency keys.
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    # Documents: a stored PDF not rendered yet, or lost and being rendered again.
    PDF_NOT_READY = "pdf_not_ready"
    PDF_UNAVAILABLE = "pdf_unavailable"
    # E-invoices.
    EINVOICE_SYNTAX_UNKNOWN = "einvoice_syntax_unknown"
    # A document that would not be a valid e-invoice: refused before it takes a number.
    EINVOICE_INVALID = "einvoice_invalid"
    # The API's protocol errors: the problem handler's own, and DRF's exceptions' codes.
    BAD_REQUEST = "bad_request"
    REQUEST_TOO_LARGE = "request_too_large"
    SERVER_ERROR = "server_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"


def all_error_codes() -> set[str]:
    """Every code of every installed app's ``error_codes`` lists.

    The lists are found by module name (like Django's admin autodiscovery), so this module
    stays below the apps that define them.
    """
    from importlib import import_module

    from django.apps import apps

    codes = set()
    for config in apps.get_app_configs():
        name = f"{config.name}.error_codes"
        try:
            module = import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue
            raise
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum:
                codes.update(str(code) for code in value)
    return codes
