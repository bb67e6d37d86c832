"""The API's router: DRF's ``SimpleRouter`` (no trailing slash) with exact URL patterns.

Ids are digits only: DRF's default ``[^/.]+`` took ``34\n`` and ``int()`` read it as 34, so
``/api/v1/invoices/34%0a`` answered for invoice 34. Its patterns end in ``\\Z`` (Python's ``$``
also matches before a trailing newline). Anything else falls through to the API's 404 problem.
"""

from rest_framework.routers import SimpleRouter


class Router(SimpleRouter):
    routes = [route._replace(url=route.url.replace("$", r"\Z")) for route in SimpleRouter.routes]

    def __init__(self):
        super().__init__(trailing_slash=False)

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        field = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        value = getattr(viewset, "lookup_value_regex", "[0-9]+")
        return f"(?P<{lookup_prefix}{field}>{value})"
