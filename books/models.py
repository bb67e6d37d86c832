"""The books: a double-entry journal posted with every money event.

Design in brief. Each money event (invoice issued, credit applied, payment, credit note,
refund) posts one ``JournalEntry`` in the transaction that makes the event, with its
``JournalLine`` legs on the accounts of its location's chart (``Account``). **The legs of an
entry balance in the accounting currency (the location's VAT currency)**: a constraint
trigger deferred to commit refuses an unbalanced or empty entry (the initial migration, as
django-hordak checks its legs); the posting code balances them first, so the trigger is the
second line. Entries and lines are append-only (database guards). Each entry takes the next
number of its location, journal and fiscal year from a counter row locked until commit, so
numbers have no gap. A line keeps the code and label of its account as posted: editing the
chart never rewrites history. A ``ClosedPeriod`` takes no entry dated in it (a trigger
refuses the insert; the service says so first with the period's name).

Customer legs (receivable, credit held, refunds payable) carry the customer as auxiliary
account and the original-currency amount, so each customer's legs add up to their ledger
balance, currency by currency.
"""

from django.conf import settings
from django.contrib.postgres.functions import TransactionNow
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.settings import CURRENCY_CHOICES

from coworking.models import Customer, Location
from coworking.triggers import append_only
from coworking.vat import VatCategory


class Purpose(models.TextChoices):
    """What an account is for; with ``Account.key`` it says where a leg goes."""

    REVENUE = "revenue", _("Revenue")
    OUTPUT_VAT = "output_vat", _("Output VAT")
    RECEIVABLE = "receivable", _("Receivables")
    CREDIT_HELD = "credit_held", _("Customer credit held")
    REFUNDS_PAYABLE = "refunds_payable", _("Refunds payable")
    BANK = "bank", _("Bank")
    SETTLED_OUTSIDE = "settled_outside", _("Settled outside")
    ROUNDING = "rounding", _("Rounding and exchange differences")


# The accounts whose legs name the customer (auxiliary accounts).
CUSTOMER_PURPOSES = (Purpose.RECEIVABLE, Purpose.CREDIT_HELD, Purpose.REFUNDS_PAYABLE)


class Journal(models.TextChoices):
    SALES = "sales", _("Sales")
    BANK = "bank", _("Bank")
    MISC = "misc", _("Miscellaneous")


class Account(models.Model):
    """An account of a location's chart. ``key`` narrows the purpose: a supply kind or VAT
    category for revenue, ``<category>:<rate>`` for output VAT, a payment method for bank;
    blank is the purpose's default."""

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    key = models.CharField(_("key"), max_length=40, blank=True)
    code = models.CharField(_("account number"), max_length=20)
    label = models.CharField(_("label"), max_length=100)

    class Meta:
        ordering = ["location", "code", "key"]
        verbose_name = _("account")
        verbose_name_plural = _("chart of accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "purpose", "key"], name="books_account_one_per_purpose_key"
            ),
            models.CheckConstraint(condition=~Q(code=""), name="books_account_has_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class JournalEntry(models.Model):
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    journal = models.CharField(_("journal"), max_length=10, choices=Journal.choices)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date"))
    currency = models.CharField(_("accounting currency"), max_length=3, choices=CURRENCY_CHOICES)
    document_number = models.CharField(_("document"), max_length=32, blank=True)
    document_date = models.DateField(_("document date"), null=True, blank=True)
    # The invoice a credit note corrects (DATEV Belegfeld 2, the FEC label).
    corrects = models.CharField(_("corrects"), max_length=32, blank=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    label = models.CharField(_("label"), max_length=200)
    # What posted it, e.g. ``invoice:42``: one entry per event, and the backfill's key.
    source = models.CharField(_("source"), max_length=60, unique=True)
    posted_at = models.DateTimeField(_("posted at"), db_default=TransactionNow())

    class Meta:
        ordering = ["location", "journal", "fiscal_year", "number"]
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "journal", "fiscal_year", "number"],
                name="books_entry_number_unique",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="books_entry_number_positive"),
        ]
        indexes = [models.Index(fields=["location", "date"])]
        triggers = append_only("books_entry")

    def __str__(self) -> str:
        return f"{self.get_journal_display()} {self.fiscal_year}-{self.number}"


class JournalLine(models.Model):
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="lines", verbose_name=_("entry")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    # The account as it was when posted.
    account_code = models.CharField(_("account number"), max_length=20)
    account_label = models.CharField(_("account label"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    debit = models.DecimalField(_("debit"), max_digits=16, decimal_places=2, default=0)
    credit = models.DecimalField(_("credit"), max_digits=16, decimal_places=2, default=0)
    # The leg in the document's currency, signed (positive = debit).
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount_currency = models.DecimalField(_("amount in currency"), max_digits=16, decimal_places=2)
    # Matches the legs of one open item: the invoice number on receivables.
    lettering = models.CharField(_("lettering"), max_length=40, blank=True)
    vat_category = models.CharField(
        _("VAT category"), max_length=2, choices=VatCategory.choices, blank=True
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["entry", "position"]
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "position"], name="books_line_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(debit__gte=0, credit__gte=0) & (Q(debit=0) | Q(credit=0)),
                name="books_line_debit_or_credit",
            ),
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | ~Q(purpose__in=CUSTOMER_PURPOSES),
                name="books_line_customer_leg_names_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "purpose", "currency"]),
            models.Index(fields=["lettering"]),
        ]
        triggers = append_only("books_line")

    def __str__(self) -> str:
        return f"{self.account_code} {self.debit or -self.credit}"


class ClosedPeriod(models.Model):
    """Days of a location's books closed by staff: nothing more is posted in them, and an
    export of them is the same bytes every time. Never reopened."""

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), db_default=TransactionNow())

    class Meta:
        ordering = ["location", "-start"]
        verbose_name = _("closed period")
        verbose_name_plural = _("closed periods")
        permissions = [("export_journal", _("Can export the journal and the VAT summary"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="books_period_order"
            )
        ]
        triggers = append_only("books_period")

    def __str__(self) -> str:
        return _("%(location)s, %(start)s to %(end)s") % {
            "location": self.location,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
