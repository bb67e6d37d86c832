"""The stable error codes of books; see ``coworking.error_codes``."""

from enum import StrEnum


class BooksErrorCode(StrEnum):
    PERIOD_CLOSED = "period_closed"
    PERIOD_INVALID = "period_invalid"
    EXPORT_INVALID = "export_invalid"
