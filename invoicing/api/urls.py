"""Invoice endpoints under ``/api/v1/`` (included by ``config.api_urls``)."""

from coworking.api.routers import Router
from invoicing.api.views import InvoiceViewSet

router = Router()
router.register("invoices", InvoiceViewSet, basename="invoice")

urlpatterns = router.urls
