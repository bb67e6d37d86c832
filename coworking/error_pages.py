"""What a request that fails on the server gets (Django's ``handler500``).

A dependency that is down or overloaded (the database, the broker) is a 503 with
``Retry-After``: retrying later will work, nothing is wrong with the request. Anything else
is a 500. Under ``/api/`` the answer is ``application/problem+json`` like every other API
error; elsewhere (the admin) a short page rendered without touching the database, which may
be what failed.
"""

import sys

from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

from coworking.api.problems import (
    DEPENDENCY_UNAVAILABLE,
    PROBLEM_MEDIA_TYPE,
    PROTOCOL_PROBLEMS,
    RETRY_AFTER_SECONDS,
    problem,
    unavailable_problem,
)
from coworking.error_codes import CoworkingErrorCode as Code

API_PREFIX = "/api/"


def server_error(request):
    """Answer an unhandled exception: 503 when a dependency failed, otherwise 500."""
    unavailable = isinstance(sys.exc_info()[1], DEPENDENCY_UNAVAILABLE)
    if unavailable:
        status_code, body = unavailable_problem()
    else:
        status_code, detail = PROTOCOL_PROBLEMS[Code.SERVER_ERROR]
        body = problem(status_code=status_code, code=Code.SERVER_ERROR, detail=detail)
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(body, status=status_code, content_type=PROBLEM_MEDIA_TYPE)
    else:
        response = HttpResponse(
            f"<!doctype html><title>{escape(body['title'])}</title>"
            f"<h1>{escape(body['title'])}</h1><p>{escape(body['detail'])}</p>",
            status=status_code,
        )
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
