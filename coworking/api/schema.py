"""OpenAPI schema helpers: problem responses documented on every operation.

``ProblemAutoSchema`` adds the error responses every operation can give (401, 403, 404,
406; 422 when it takes parameters or a body; 400 and 415 when it takes a body; 429 when it
is throttled), each as ``application/problem+json``. Operation-specific errors (409s) are
declared with ``problem_responses`` in ``@extend_schema``. A problem's ``code`` is documented
as the list of every code the API can answer, with its status and meaning
(``coworking.api.problems.error_catalogue``).
"""

from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse

from coworking.api.problems import PROBLEM_MEDIA_TYPE, ProblemSerializer, error_catalogue
from coworking.api.serializers import StrictSerializer

DESCRIPTIONS = {
    400: _(
        "The body could not be parsed (`parse_error`), or the request contains a NUL "
        "character (`bad_request`)."
    ),
    401: _("No or invalid credentials (`not_authenticated`, `authentication_failed`)."),
    403: _(
        "Authenticated but not allowed (`permission_denied`, `cancel_not_allowed`, CSRF "
        "failure with session authentication)."
    ),
    404: _(
        "No such object, or not yours (`not_found`); also a page past the end, or a `format` "
        "the endpoint does not have."
    ),
    406: _("The Accept header asks for a media type the endpoint cannot give."),
    409: _("The document's state does not allow this."),
    413: _("The request body is too large (`request_too_large`)."),
    415: _("The request body's media type is not supported (`unsupported_media_type`)."),
    422: _("Invalid input (`invalid_input` with `errors` per field, or a specific code)."),
    429: _("Too many requests (`throttled`); see the Retry-After header."),
    503: _("A dependency is not available; retry later."),
}


def problem_responses(*codes: int, **descriptions: "str | StrPromise") -> dict:
    """``{(code, "application/problem+json"): OpenApiResponse(Problem)}`` for ``codes``;
    ``descriptions`` may override the text per code, keyed ``_409`` etc."""
    return {
        (code, PROBLEM_MEDIA_TYPE): OpenApiResponse(
            ProblemSerializer, description=descriptions.get(f"_{code}", DESCRIPTIONS[code])
        )
        for code in codes
    }


class ProblemAutoSchema(AutoSchema):
    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        """A request body that refuses unknown fields says so: ``additionalProperties``."""
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(force_instance(serializer), StrictSerializer):
            schema["additionalProperties"] = False
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        # 400: a body that cannot be parsed, or a NUL character in the query (any request).
        codes = [400, 401, 403, 404, 406]
        has_body = "requestBody" in operation
        if has_body:
            codes += [413, 415]
        if has_body or any(p.get("in") == "query" for p in operation.get("parameters", [])):
            codes.append(422)
        if self.view.get_throttles():
            codes.append(429)
        responses = operation.setdefault("responses", {})
        for (code, *media_types), response in problem_responses(*codes).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    response, str(code), media_types, "response"
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation


class ErrorCodeFieldExtension(OpenApiSerializerFieldExtension):
    """A problem's ``code``: an enum of every code, each explained in the description."""

    target_class = "coworking.api.problems.ErrorCodeField"

    def map_serializer_field(self, auto_schema, direction):
        catalogue = error_catalogue()
        lines = [
            f"- `{code}` ({status}): {meaning}" for code, (status, meaning) in catalogue.items()
        ]
        return {
            "type": "string",
            "enum": list(catalogue),
            "description": "\n".join([str(_("Stable machine-readable code, one of:")), "", *lines]),
        }
