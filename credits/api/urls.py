"""Credit-note endpoints and ``invoices/{id}/cancel`` under ``/api/v1/`` (included by
``coworking.api.urls``)."""

from coworking.api.routers import Router
from credits.api.views import CreditNoteViewSet, InvoiceCancelViewSet

router = Router()
router.register("credit-notes", CreditNoteViewSet, basename="creditnote")
# Only its ``cancel`` action is routed: ``invoices/{id}/cancel``, named ``invoice-cancel``.
router.register("invoices", InvoiceCancelViewSet, basename="invoice")

urlpatterns = router.urls
