"""Refuse requests that no view can serve before they reach one."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from coworking.api.problems import PROBLEM_MEDIA_TYPE, problem
from coworking.error_codes import CoworkingErrorCode as Code
from coworking.error_pages import API_PREFIX


class RejectNulCharactersMiddleware:
    """A NUL character (``%00``) in the path or the query string is a 400: PostgreSQL cannot store or
    compare it, so an admin list filter, an autocomplete ``term`` or an API filter with one
    would otherwise end in a 500. (Form and JSON fields refuse it through their validators.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            detail = _("The request contains a NUL character.")
            if request.path.startswith(API_PREFIX):
                return JsonResponse(
                    problem(status_code=400, code=Code.BAD_REQUEST, detail=detail),
                    status=400,
                    content_type=PROBLEM_MEDIA_TYPE,
                )
            return HttpResponseBadRequest(detail)
        return self.get_response(request)
