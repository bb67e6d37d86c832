"""The endpoints of ``coworking`` itself (the signed-in user, customer accounts), included
under ``/api/v1/`` by the project's URLs (``config.api_urls``)."""

from django.urls import include, path

from coworking.api.routers import Router
from coworking.api.views import CustomerAccountViewSet, MeView

router = Router()
router.register("customers", CustomerAccountViewSet, basename="customer")

urlpatterns = [
    path("me", MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
