"""The row locks invoicing's writes take (see ``coworking.locking`` for their order)."""

from collections.abc import Sequence

from coworking.locking import lock_rows
from coworking.models import Customer
from invoicing.errors import InvoiceNotFound
from invoicing.models import Invoice


def invoice_lock(*, invoice_id: int, related: Sequence[str] = ()) -> Invoice:
    """Lock one invoice row (not its related rows) for the rest of the transaction.

    ``related`` names foreign keys to fetch in the same query.
    """
    try:
        return lock_rows(Invoice.objects.select_related(*related)).get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise InvoiceNotFound() from None


def lock_customer_of(*, invoice_id: int) -> None:
    customer_ids = Invoice.objects.filter(pk=invoice_id).values("customer_id")
    list(lock_rows(Customer.objects.filter(pk__in=customer_ids)).values_list("pk"))
