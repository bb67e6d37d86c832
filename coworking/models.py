"""Locations, customers and the customer ledger.

The ledger is append-only: one signed entry per event that changes what a customer owes,
in the currency of its source document (positive = debit, the customer owes more: an invoice,
account credit refunded or settled outside; negative = credit: a payment, a credit note). A customer's balance per currency is always the sum of its entries, computed by
a selector, never a stored running total. The database refuses UPDATE and DELETE of entries
(triggers below), and constraints tie each kind to its source document and its sign.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coworking.money import CURRENCY_CHOICES, money_field
from coworking.triggers import append_only


class Location(models.Model):
    """A legal entity that issues documents; each has its own number series."""

    name = models.CharField(_("name"), max_length=100)
    legal_name = models.CharField(_("legal name"), max_length=200)
    address = models.TextField(_("address"))
    tax_id = models.CharField(_("tax id"), max_length=40)
    default_currency = models.CharField(
        _("default currency"), max_length=3, choices=CURRENCY_CHOICES
    )
    default_tax_rate = models.DecimalField(
        _("default tax rate (%)"), max_digits=5, decimal_places=2, default=0
    )
    invoice_prefix = models.CharField(_("invoice number prefix"), max_length=10, unique=True)
    credit_note_prefix = models.CharField(
        _("credit note number prefix"), max_length=10, unique=True
    )
    email_documents = models.BooleanField(
        _("e-mail documents to customers"),
        default=False,
        help_text=_("Send credit notes to the customer's billing e-mail once rendered."),
    )
    members_may_cancel = models.BooleanField(
        _("members may cancel unpaid invoices"),
        default=False,
        help_text=_("Allow portal users to cancel their own unpaid invoices through the API."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(invoice_prefix=models.F("credit_note_prefix")),
                name="location_prefixes_differ",
            ),
            models.CheckConstraint(
                condition=Q(default_tax_rate__gte=0, default_tax_rate__lt=100),
                name="location_tax_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A member or a company billed by one location."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("Member")
        COMPANY = "company", _("Company")

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="customers", verbose_name=_("location")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    billing_name = models.CharField(_("billing name"), max_length=200)
    billing_email = models.EmailField(_("billing e-mail"))
    billing_address = models.TextField(_("billing address"), blank=True)
    tax_id = models.CharField(_("tax id"), max_length=40, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
        verbose_name=_("portal user"),
    )

    class Meta:
        ordering = ["billing_name"]
        indexes = [models.Index(fields=["location", "billing_name"])]

    def __str__(self) -> str:
        return self.billing_name


class LedgerEntry(models.Model):
    """One append-only line on a customer's account."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice issued")
        PAYMENT = "payment", _("Payment received")
        CREDIT_NOTE = "credit_note", _("Credit note issued")
        REFUND = "refund", _("Credit refunded")
        SETTLED_OUTSIDE = "settled_outside", _("Credit settled outside")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = money_field(_("amount"))
    description = models.CharField(_("description"), max_length=200)
    invoice = models.ForeignKey(
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    payment = models.OneToOneField(
        "invoicing.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entry",
    )
    credit_note = models.OneToOneField(
        "credits.CreditNote",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entry",
    )
    refund = models.OneToOneField(
        "credits.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entry",
    )
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("ledger entries")
        indexes = [models.Index(fields=["customer", "amount_currency", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="invoice",
                        amount__gt=0,
                        invoice__isnull=False,
                        payment__isnull=True,
                        credit_note__isnull=True,
                        refund__isnull=True,
                    )
                    | Q(
                        kind="payment",
                        amount__lt=0,
                        invoice__isnull=False,
                        payment__isnull=False,
                        credit_note__isnull=True,
                        refund__isnull=True,
                    )
                    | Q(
                        kind="credit_note",
                        amount__lt=0,
                        invoice__isnull=False,
                        payment__isnull=True,
                        credit_note__isnull=False,
                        refund__isnull=True,
                    )
                    # A refund of a credit note's excess names its invoice; a later refund
                    # of account credit has none.
                    | Q(
                        kind__in=["refund", "settled_outside"],
                        amount__gt=0,
                        payment__isnull=True,
                        credit_note__isnull=True,
                        refund__isnull=False,
                    )
                ),
                name="ledger_kind_source_and_sign",
            ),
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(kind="invoice"), name="ledger_one_debit_per_invoice"
            ),
        ]
        triggers = append_only("ledger")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header.

    A row is inserted and committed (status ``in_progress``) before the request's work
    starts, so a concurrent request with the same key finds it; the response is stored when
    the work ends. Keys are scoped per user and expire after 24 hours. See
    ``coworking.idempotency`` for the rules.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    # The response body exactly as JSON text (jsonb would reorder its keys).
    response_body = models.TextField(_("response body"), blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(response_status__isnull=False),
                name="idempotency_key_completed_has_response",
            ),
        ]

    def __str__(self) -> str:
        return self.key
