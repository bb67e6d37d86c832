"""``@idempotent``: the ``Idempotency-Key`` header for any POST handler of a DRF view.

Decorate the handler (below ``@action`` and ``@extend_schema``)::

    @extend_schema(parameters=[IDEMPOTENCY_KEY_HEADER], ...)
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None): ...

The handler runs after authentication, permissions and throttling, so keys belong to an
authenticated user. Without the header the handler runs as usual. The rules are in
``coworking.idempotency``; this module only adapts them to DRF: it hashes the request, opens
the transaction in which the key is claimed, the handler works (its services' transactions
become savepoints) and the response is stored, and rolls it back when the response is not
to be stored; it replays stored responses.
"""

import functools
import json

from django.db import transaction
from django.http.request import RawPostDataException
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from coworking.api.problems import PROBLEM_MEDIA_TYPE, use_problem_renderer
from coworking.errors import ApplicationError
from coworking.idempotency import (
    KEY_PATTERN,
    StoredResponse,
    idempotency_key_begin,
    idempotency_key_complete,
    request_fingerprint,
)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = ("Location",)

IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    description=_(
        "A unique key chosen by the client (e.g. a UUID) that makes the request safe to "
        "retry. The first response (status and body) is stored with the key for 24 hours: a "
        "retry with the same key and the same body gets it replayed (with the header "
        "`Idempotent-Replayed: true`) and does nothing else; the same key with another body "
        "gets 422 `idempotency_key_reused`; a retry while the first request is still running "
        "gets 409 `idempotency_key_in_use`. Keys are scoped to the authenticated user; errors "
        "that did no work (5xx, and 4xx about the request itself: body, media type, fields, "
        "id) are not stored, so the retry runs again."
    ),
)


def _request_body(request) -> bytes:
    try:
        return request._request.body
    except RawPostDataException:  # already streamed (multipart): hash the parsed data
        return json.dumps(request.data, cls=JSONEncoder, sort_keys=True).encode()


def _replay(request, stored: StoredResponse) -> Response:
    headers = {**stored.headers, REPLAYED_HEADER: "true"}
    content_type = headers.pop("Content-Type", None)
    if content_type == PROBLEM_MEDIA_TYPE:
        use_problem_renderer(request)
    data = json.loads(stored.body) if stored.body else None
    return Response(data, status=stored.status, headers=headers, content_type=content_type)


def idempotent(handler):
    """Make a DRF view handler honour the ``Idempotency-Key`` header."""

    @functools.wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(self, request, *args, **kwargs)
        request_hash = request_fingerprint(
            method=request.method, path=request.get_full_path(), body=_request_body(request)
        )
        with transaction.atomic():
            claim = idempotency_key_begin(user=request.user, key=key, request_hash=request_hash)
            if isinstance(claim, StoredResponse):
                return _replay(request, claim)
            try:
                response = handler(self, request, *args, **kwargs)
                did_work = True
            except Exception as exc:
                # A refusal by the operation itself (an ApplicationError: already
                # cancelled, ...) is its outcome and is stored like a success (the service's
                # savepoint has undone its writes). An error about the request (unparsable
                # body, media type, invalid field, unknown id) did no work: not stored, so
                # the corrected retry runs. Unhandled errors re-raise here: rolled back.
                did_work = isinstance(exc, ApplicationError)
                response = self.handle_exception(exc)
            if not did_work or response.status_code >= 500 or not isinstance(response, Response):
                transaction.set_rollback(True)
                return response
            headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
            if response.content_type:
                headers["Content-Type"] = response.content_type
            body = "" if response.data is None else json.dumps(response.data, cls=JSONEncoder)
            idempotency_key_complete(
                claim=claim, status=response.status_code, body=body, headers=headers
            )
        return response

    return wrapper
