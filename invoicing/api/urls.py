"""Invoice endpoints under ``/api/v1/`` (included by ``coworking.api.urls``)."""

from rest_framework.routers import SimpleRouter

from invoicing.api.views import InvoiceViewSet

router = SimpleRouter(trailing_slash=False)
router.register("invoices", InvoiceViewSet, basename="invoice")

urlpatterns = router.urls
