"""Credit-note endpoints and ``invoices/{id}/cancel`` under ``/api/v1/`` (included by
``coworking.api.urls``)."""

from rest_framework.routers import SimpleRouter

from credits.api.views import CreditNoteViewSet, InvoiceCancelViewSet

router = SimpleRouter(trailing_slash=False)
router.register("credit-notes", CreditNoteViewSet, basename="creditnote")
# Only its ``cancel`` action is routed: ``invoices/{id}/cancel``, named ``invoice-cancel``.
router.register("invoices", InvoiceCancelViewSet, basename="invoice")

urlpatterns = router.urls
