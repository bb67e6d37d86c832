"""URLs. The health probes ``/healthz`` and ``/readyz`` are answered before routing, by
``coworking.health.HealthProbeMiddleware``."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
]

handler500 = "coworking.error_pages.server_error"
