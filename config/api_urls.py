"""``/api/v1/``: the endpoints of every app, the OpenAPI schema and its documentation.

The project's URLs are where the apps meet: each app's endpoints are included by module path
here, so no app names another's."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from coworking.api.views import not_found

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include("invoicing.api.urls")),
    path("", include("credits.api.urls")),
    path("webhooks/", include("webhooks.api.urls")),
    path("", include("coworking.api.urls")),
    re_path(r"^", not_found),  # anything else, newlines included
]
