"""The customer ledger: its append-only entries and the running balance per customer and
currency that ``coworking.services.ledger_post`` keeps with them (registered in
``coworking.models``)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coworking.money import format_money, money_field
from coworking.registry import ledger_source
from coworking.triggers import append_only


class LedgerEntry(models.Model):
    """One append-only line on a customer's account.

    The entry names no row of a higher app: each invoice, payment, credit note and refund
    points at the entry posted for it (its ``ledger_entry``, reached from here by the
    reverse relation its app declares and registers, ``coworking.registry``), and the entry
    keeps the number of the invoice it concerns and the date of its document as they were
    posted, so the ledger reads in document order by itself."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice issued")
        PAYMENT = "payment", _("Payment received")
        CREDIT_NOTE = "credit_note", _("Credit note issued")
        REFUND = "refund", _("Credit refunded")
        SETTLED_OUTSIDE = "settled_outside", _("Credit settled outside")

    customer = models.ForeignKey(
        "coworking.Customer",
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = money_field(_("amount"))
    description = models.CharField(_("description"), max_length=200)
    document_number = models.CharField(
        _("document number"),
        max_length=32,
        blank=True,
        help_text=_(
            "The number of the invoice the entry concerns, as posted (none for a refund of "
            "account credit)."
        ),
    )
    document_date = models.DateField(
        _("document date"),
        help_text=_("The date of the entry's document: its issue, receipt or refund day."),
    )
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["customer", "amount_currency", "-created_at"]),
            # The ledger's order (``coworking.selectors.customer_ledger``): a page, and the
            # entries above it that its running balance subtracts, are index ranges.
            models.Index(
                fields=["customer", "-document_date", "-created_at", "-id"],
                name="ledger_document_order",
            ),
        ]
        constraints = [
            # Which row is each entry's source is held by the apps that post them: each
            # document's ``ledger_entry`` and the checks their migrations install.
            models.CheckConstraint(
                condition=(
                    Q(kind="invoice", amount__gt=0)
                    | Q(kind__in=["payment", "credit_note"], amount__lt=0)
                    | Q(kind__in=["refund", "settled_outside"], amount__gt=0)
                ),
                name="ledger_kind_and_sign",
            ),
        ]
        triggers = append_only("ledger")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_money(self.amount)}"

    @property
    def display_description(self) -> str:
        """The description in the reader's language, composed by the app that posted the
        entry (``coworking.registry``): ``description`` holds the text in the language
        active when it was posted (kept as written, the ledger being append-only). Reads the
        entry's source: select it with the entry (``ledger_related()``)."""
        source = ledger_source(self.kind)
        return source.describe(self) if source is not None else self.description


class CustomerBalance(models.Model):
    """The sum of a customer's ledger entries in one currency, kept beside the ledger.

    ``coworking.services.ledger_post`` adds each entry's amount here in the entry's own
    transaction, so reading a balance (and the credit a customer may spend) reads one row
    whatever the customer's history; ``reconcile`` proves every row equals its ledger."""

    customer = models.ForeignKey(
        "coworking.Customer",
        on_delete=models.PROTECT,
        related_name="balances",
        verbose_name=_("customer"),
    )
    amount = money_field(_("balance"))

    class Meta:
        verbose_name = _("customer balance")
        verbose_name_plural = _("customer balances")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "amount_currency"], name="customer_balance_per_currency"
            ),
        ]

    def __str__(self) -> str:
        return format_money(self.amount)
