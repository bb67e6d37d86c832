"""Error codes are one list per app (``<app>/error_codes.py``): every error carries a code of
its own app's list, no code in a list is unused, and the API documents every one of them."""

from django.utils.module_loading import autodiscover_modules

from coworking.api.problems import PROTOCOL_PROBLEMS, error_catalogue
from coworking.error_codes import all_error_codes
from coworking.errors import ApplicationError


def application_errors() -> list[type[ApplicationError]]:
    autodiscover_modules("errors")
    found, pending = [], [ApplicationError]
    while pending:
        error = pending.pop()
        found.append(error)
        pending.extend(error.__subclasses__())
    return found


def test_every_error_carries_a_code_of_its_own_apps_list():
    for error in application_errors():
        app = error.__module__.split(".")[0]
        code_list = type(error.code)
        assert code_list.__module__ == f"{app}.error_codes", (error, error.code)
        assert error.default_message, error


def test_no_code_is_unused_or_outside_the_lists():
    carried = {str(error.code) for error in application_errors()}
    answered = carried | {str(code) for code in PROTOCOL_PROBLEMS}
    assert all_error_codes() == answered
    assert set(error_catalogue()) == answered


def test_codes_are_unique_across_apps():
    from books.error_codes import BooksErrorCode
    from coworking.error_codes import CoworkingErrorCode
    from credits.error_codes import CreditsErrorCode
    from invoicing.error_codes import InvoicingErrorCode
    from webhooks.error_codes import WebhooksErrorCode

    lists = [
        CoworkingErrorCode,
        InvoicingErrorCode,
        CreditsErrorCode,
        BooksErrorCode,
        WebhooksErrorCode,
    ]
    assert sum(len(codes) for codes in lists) == len(all_error_codes())
