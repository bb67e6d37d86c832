"""``/api/v1/``: the endpoints of every app, the OpenAPI schema and its documentation.

The project's URLs are where the apps meet: each app's endpoints are included by module path
here, so no app names another's. The schema and its pages are for signed-in users unless
``API_SCHEMA_PUBLIC`` opens them (``coworking.api.permissions.SchemaAccess``)."""

from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from coworking.api.permissions import SchemaAccess
from coworking.api.views import not_found

app_name = "api"

DOCS = [SchemaAccess]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=DOCS), name="schema"),
    path(
        "docs/",
        # The split view serves its setup script as a file: no inline script (the CSP).
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=DOCS),
        name="docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", permission_classes=DOCS),
        name="redoc",
    ),
    path("", include("invoicing.api.urls")),
    path("", include("credits.api.urls")),
    path("", include("books.api.urls")),
    path("webhooks/", include("webhooks.api.urls")),
    path("", include("coworking.api.urls")),
    re_path(r"^", not_found),  # anything else, newlines included
]
