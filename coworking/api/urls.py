"""``/api/v1/``: the endpoints of every app, the OpenAPI schema and its documentation.

Each app's endpoints are included by module path: the project's URLs are where the apps
meet, and ``coworking`` itself imports none of ``invoicing``, ``credits``, ``webhooks``.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from coworking.api.permissions import SchemaAccess
from coworking.api.routers import Router
from coworking.api.views import CustomerAccountViewSet, MeView, not_found

app_name = "api"

DOCS = [SchemaAccess]

router = Router()
router.register("customers", CustomerAccountViewSet, basename="customer")

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
    path("me", MeView.as_view(), name="me"),
    path("", include("invoicing.api.urls")),
    path("", include("credits.api.urls")),
    path("webhooks/", include("webhooks.api.urls")),
    path("", include(router.urls)),
    re_path(r"^", not_found),  # anything else, newlines included
]
