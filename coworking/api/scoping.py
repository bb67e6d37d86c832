"""Who sees what through the API: the querysets every endpoint starts from.

- A user with the model's ``view`` permission (staff) sees every row of that model.
- A portal user (``Customer.portal_user``) sees only their own customer's issued
  documents: invoices other than drafts, credit notes, ledger and balance.
- Anybody else sees nothing.

Endpoints look objects up inside these querysets, so whatever is not visible is a 404,
never a 403: the API does not reveal that another customer's document exists.
"""

from django.db.models import QuerySet

from coworking.models import Customer
from credits.models import CreditNote
from invoicing.models import Invoice


def portal_customer(*, user) -> Customer | None:
    """The customer whose portal user ``user`` is, or ``None``."""
    if not user.is_authenticated:
        return None
    try:
        return user.customer
    except Customer.DoesNotExist:
        return None


def visible_invoices(*, user) -> QuerySet[Invoice]:
    """Invoices ``user`` may see (drafts only with the view permission)."""
    invoices = Invoice.objects.all()
    if user.has_perm("invoicing.view_invoice"):
        return invoices
    customer = portal_customer(user=user)
    if customer is None:
        return invoices.none()
    return invoices.filter(customer=customer).exclude(state=Invoice.State.DRAFT)


def visible_credit_notes(*, user) -> QuerySet[CreditNote]:
    """Credit notes ``user`` may see."""
    notes = CreditNote.objects.all()
    if user.has_perm("credits.view_creditnote"):
        return notes
    customer = portal_customer(user=user)
    if customer is None:
        return notes.none()
    return notes.filter(customer=customer)


def visible_customers(*, user) -> QuerySet[Customer]:
    """Customers whose ledger and balance ``user`` may see."""
    customers = Customer.objects.all()
    if user.has_perm("coworking.view_customer"):
        return customers
    customer = portal_customer(user=user)
    if customer is None:
        return customers.none()
    return customers.filter(pk=customer.pk)
