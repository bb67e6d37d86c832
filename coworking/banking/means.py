"""From a bank account and a reference to the payment means a document states (BG-16):
shared by invoices (the location's account) and refunding credit notes (the customer's)."""

from coworking.banking.models import BankAccount
from coworking.einvoice.document import CREDIT_TRANSFER, SEPA_CREDIT_TRANSFER, PaymentMeans

SEPA_CURRENCY = "EUR"


def payee_account(*, location_id: int, currency: str) -> dict:
    """The location's account in ``currency`` as an invoice keeps it (``holder``, ``iban``,
    ``bic``), or ``{}`` when it has none: one query."""
    # One per location and currency; ``get`` rather than the model's ordering, which joins
    # the location to sort by its name.
    try:
        account = BankAccount.objects.get(location_id=location_id, currency=currency)
    except BankAccount.DoesNotExist:
        return {}
    return {"holder": account.account_holder, "iban": account.iban, "bic": account.bic}


def transfer_means(
    *, iban: str, currency: str, holder: str = "", bic: str = "", reference: str = ""
) -> PaymentMeans | None:
    """A credit transfer to ``iban``: SEPA (58) in euros, another credit transfer (30) in
    any other currency; ``None`` without an IBAN."""
    if not iban:
        return None
    return PaymentMeans(
        code=SEPA_CREDIT_TRANSFER if currency == SEPA_CURRENCY else CREDIT_TRANSFER,
        iban=iban,
        account_name=holder,
        bic=bic,
        reference=reference,
    )
