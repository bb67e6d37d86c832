"""Every API error is an ``application/problem+json`` body (RFC 9457), mapped in one place.

A problem has ``type`` (a URN naming the code), ``title`` (a short summary of the kind of
problem), ``status`` (the HTTP status), ``detail`` (this occurrence, for people) and
``code`` (stable, for programs: e.g. ``invoice_already_cancelled``). Validation errors add
``errors``: one entry per invalid field with its message and code.

Business errors (``coworking.errors.ApplicationError``) are mapped by category:
``InvalidInput`` → 422, ``StateConflict`` → 409, ``NotFound`` → 404, ``NotAllowed`` → 403,
``Unavailable`` → 503.
DRF's own errors keep their status, except validation errors, which are 422 like every
other invalid input (400 stays for a body that cannot be parsed at all). Work that fails
because the database or the broker is unavailable (connection lost or refused, a lock or
statement timeout) is a 503 ``unavailable`` with ``Retry-After``, logged; nothing
else that escapes is answered here (Django's ``handler500``,
``coworking.error_pages.server_error``, renders it as a problem too).
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as BrokerUnavailable
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from coworking.error_codes import CoworkingErrorCode as Code
from coworking.errors import (
    ApplicationError,
    InvalidInput,
    NotAllowed,
    NotFound,
    StateConflict,
    Unavailable,
)

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

# A dependency the work needs is down or overloaded: the client should retry later.
DEPENDENCY_UNAVAILABLE = (OperationalError, InterfaceError, BrokerUnavailable)
RETRY_AFTER_SECONDS = 5
PROBLEM_TYPE_PREFIX = "urn:coworking:problem:"

TITLES = {
    400: _("Malformed request"),
    401: _("Authentication required"),
    403: _("Not allowed"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict with the current state"),
    413: _("Request too large"),
    415: _("Unsupported media type"),
    422: _("Invalid input"),
    429: _("Too many requests"),
    500: _("Server error"),
    503: _("Service unavailable"),
}

CATEGORY_STATUS = (
    (InvalidInput, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (StateConflict, status.HTTP_409_CONFLICT),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (NotAllowed, status.HTTP_403_FORBIDDEN),
    (Unavailable, status.HTTP_503_SERVICE_UNAVAILABLE),
)


# The problems the handler makes of anything that is not an ``ApplicationError``.
PROTOCOL_PROBLEMS = {
    Code.BAD_REQUEST: (status.HTTP_400_BAD_REQUEST, _("The request is not valid.")),
    Code.REQUEST_TOO_LARGE: (
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        _("The request body is too large."),
    ),
    Code.SERVER_ERROR: (
        status.HTTP_500_INTERNAL_SERVER_ERROR,
        _("Something went wrong on our side; it has been logged."),
    ),
    **{
        Code(drf_error.default_code): (drf_error.status_code, drf_error.default_detail)
        for drf_error in (
            exceptions.ParseError,
            exceptions.AuthenticationFailed,
            exceptions.NotAuthenticated,
            exceptions.PermissionDenied,
            exceptions.NotFound,
            exceptions.MethodNotAllowed,
            exceptions.NotAcceptable,
            exceptions.UnsupportedMediaType,
            exceptions.Throttled,
        )
    },
}


def application_error_status(error: type[ApplicationError]) -> int:
    return next(
        (code for category, code in CATEGORY_STATUS if issubclass(error, category)),
        status.HTTP_400_BAD_REQUEST,
    )


def error_catalogue() -> dict[str, tuple[int, str]]:
    """Every ``code`` a problem can carry, with its HTTP status and meaning: the protocol
    problems above and the code of every ``ApplicationError`` of every app (each app's
    ``errors`` module is loaded first). Documented in the OpenAPI schema."""
    autodiscover_modules("errors")
    catalogue = {str(code): problem for code, problem in PROTOCOL_PROBLEMS.items()}
    pending = [ApplicationError]
    while pending:
        error = pending.pop()
        pending.extend(error.__subclasses__())
        catalogue.setdefault(
            str(error.code), (application_error_status(error), str(error.default_message))
        )
    return dict(sorted(catalogue.items()))


class ErrorCodeField(serializers.CharField):
    """A problem's ``code``; its schema lists every code (``coworking.api.schema``)."""


class ProblemJSONRenderer(JSONRenderer):
    media_type = PROBLEM_MEDIA_TYPE
    format = "problem+json"


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text=_("Dotted path of the field, or non_field_errors."))
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """The body of every error response (documentation only; errors are built below)."""

    type = serializers.CharField(help_text=_("A URN naming the problem, ending in its code."))
    title = serializers.CharField(help_text=_("A short summary of the kind of problem."))
    status = serializers.IntegerField(help_text=_("The HTTP status code."))
    detail = serializers.CharField(help_text=_("What went wrong this time, for people."))
    code = ErrorCodeField()  # its description lists every code
    errors = FieldErrorSerializer(
        many=True, required=False, help_text=_("Validation errors, one per invalid field.")
    )


def problem(*, status_code: int, code: str, detail: str, errors: list | None = None) -> dict:
    body = {
        "type": f"{PROBLEM_TYPE_PREFIX}{code}",
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def unavailable_problem() -> tuple[int, dict]:
    """The problem of work whose database or broker is down: ``Unavailable``'s."""
    status_code = application_error_status(Unavailable)
    return status_code, problem(
        status_code=status_code, code=Unavailable.code, detail=Unavailable.default_message
    )


def use_problem_renderer(request) -> None:
    """Render this request's response as problem+json, whatever the client negotiated."""
    if request is not None:
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = PROBLEM_MEDIA_TYPE


def field_errors(detail, path: str = "") -> list[dict]:
    """Flatten DRF's nested error detail into ``[{field, message, code}]``."""
    if isinstance(detail, dict):
        return [
            error
            for key, value in detail.items()
            for error in field_errors(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [error for item in detail for error in field_errors(item, path)]
        return [
            error
            for index, item in enumerate(detail)
            for error in field_errors(item, f"{path}[{index}]" if path else str(index))
        ]
    return [
        {
            "field": path or api_settings.NON_FIELD_ERRORS_KEY,
            "message": str(detail),
            "code": getattr(detail, "code", None) or "invalid",
        }
    ]


def _convert(exc):
    """Django's exceptions as DRF's, as DRF's own handler does."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def problem_exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every handled error becomes a problem+json response.

    Returns ``None`` for anything else, which DRF re-raises (a 500, logged).
    """
    exc = _convert(exc)
    request = context.get("request")
    headers = {}
    if isinstance(exc, ApplicationError):
        status_code = application_error_status(type(exc))
        body = problem(status_code=status_code, code=exc.code, detail=exc.message)
        if isinstance(exc, Unavailable):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, RequestDataTooBig):
        status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        body = problem(
            status_code=status_code,
            code=Code.REQUEST_TOO_LARGE,
            detail=PROTOCOL_PROBLEMS[Code.REQUEST_TOO_LARGE][1],
        )
    elif isinstance(exc, SuspiciousOperation):
        status_code = status.HTTP_400_BAD_REQUEST
        body = problem(
            status_code=status_code,
            code=Code.BAD_REQUEST,
            detail=PROTOCOL_PROBLEMS[Code.BAD_REQUEST][1],
        )
    elif isinstance(exc, DEPENDENCY_UNAVAILABLE):
        logger.error("A dependency is unavailable: %s", exc, exc_info=exc)
        status_code, body = unavailable_problem()
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif isinstance(exc, exceptions.ValidationError):
        status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        errors = field_errors(exc.detail)
        detail = (
            errors[0]["message"]
            if len(errors) == 1
            else _("%(count)d fields are not valid.") % {"count": len(errors)}
        )
        body = problem(
            status_code=status_code, code=InvalidInput.code, detail=detail, errors=errors
        )
    elif isinstance(exc, exceptions.APIException):
        status_code = exc.status_code
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = problem(status_code=status_code, code=code, detail=_detail_text(exc.detail))
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None
    use_problem_renderer(request)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_MEDIA_TYPE)


def _detail_text(detail) -> str:
    if isinstance(detail, dict | list):
        errors = field_errors(detail)
        return errors[0]["message"] if errors else ""
    return str(detail)
