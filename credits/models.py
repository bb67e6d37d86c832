"""Credit notes, refunds and the record of each cancellation.

A credit note credits all or part of one invoice: each of its lines is the credited part of
an invoice line (``invoice_line``) with the sign reversed (negative quantity, net and tax;
same description, unit price and tax rate), or a free amount at a tax rate of the invoice
(no ``invoice_line``). An invoice may have several credit notes; together they never credit
more than it per line (quantity, net, tax), per tax rate and in total, and an invoice whose
notes credit it in full is cancelled. ``credits.services.credit_note_issue`` writes them;
the database holds the same rules in constraint triggers deferred to commit (the
hand-written block of ``credits/migrations/0001_initial.py``), the way django-hordak checks
the legs of a transaction.

What a note credits first reduces what is still due on its invoice; the rest (the invoice
was paid) is allocated, as staff choose, to account credit, a refund or a settlement
outside the system: the four parts add up to the note (a check constraint). A ``Refund`` is
money paid back to the customer, or credit settled outside, with its own ledger entry.

Each note takes its number from its location's credit-note series. The database refuses
DELETE and TRUNCATE of credit notes and lines, UPDATE of lines, lines added after the
transaction that issued the note, and UPDATE of anything on a credit note
but its PDF and e-mail bookkeeping, except setting its number once (it is written last, see
``credits.services``).
"""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.functions import TransactionNow
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from coworking.allowances import (
    LineAllowanceFields,
    line_allowance_constraint,
)
from coworking.documents.models import PARTIES_RECORDED, Document, DocumentLine
from coworking.models import Customer, LedgerEntry, Location
from coworking.money import exact_money, money_field
from coworking.text import single_line
from coworking.triggers import (
    REFUSED,
    Guard,
    GuardTrigger,
    any_changed,
    append_only,
    dates_follow_numbers,
    no_truncate,
    pdf_fixed_once_recorded,
)
from coworking.vat import VatCurrencyFields, VatLineFields, line_constraints
from credits.allowance_charges import CreditNoteAllowanceCharge  # noqa: F401  (registered here)
from invoicing.models import POSTED_AS, Channel, Invoice, InvoiceLine

# Set once when the note is written and never changed.
FROZEN_CREDIT_NOTE_FIELDS = (
    "vat_rounding",
    "location",
    "customer",
    "invoice",
    "invoice_number",
    "invoice_issue_date",
    "issue_date",
    "currency",
    "reason",
    "reason_code",
    "cancels_invoice",
    "created_by",
    "channel",
    "created_at",
    "net_total",
    "net_total_currency",
    "tax_total",
    "tax_total_currency",
    "total",
    "total_currency",
    "amount_off_due",
    "amount_off_due_currency",
    "account_credit_amount",
    "account_credit_amount_currency",
    "refund_amount",
    "refund_amount_currency",
    "settled_outside_amount",
    "settled_outside_amount_currency",
    "buyer_reference",
    "vat_currency",
    "vat_exchange_rate",
    "tax_total_vat_currency",
    "seller",
    "buyer",
    "ledger_entry",
)
# Set once, when the note takes its number (the last write of the issuing transaction).
NUMBER_FIELDS = ("sequence_number", "number")


class ReasonCode(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    SERVICE_NOT_USED = "service_not_used", _("Service not used")
    GOODWILL = "goodwill", _("Goodwill")
    BILLING_ERROR = "billing_error", _("Billing error")
    OTHER = "other", _("Other")


class CreditNote(VatCurrencyFields, Document):
    """A credit note; its VAT currency and exchange rate are its invoice's (VAT is reversed
    at the rate it was charged)."""

    PDF_KIND = "credit-note"
    PDF_SWEEP_SINCE = "created_at"

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("location")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("customer")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("invoice")
    )
    invoice_number = models.CharField(_("invoice number"), max_length=32)
    invoice_issue_date = models.DateField(_("invoice date"))
    # Empty only inside the issuing transaction, until the note takes its number.
    sequence_number = models.PositiveIntegerField(_("sequence number"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=32, blank=True, default="")
    issue_date = models.DateField(_("issue date"))
    reason = models.TextField(_("reason"), blank=True)
    reason_code = models.CharField(
        _("reason code"), max_length=20, choices=ReasonCode.choices, default=ReasonCode.OTHER
    )
    cancels_invoice = models.BooleanField(
        _("cancels the invoice"),
        default=False,
        help_text=_("This note credited what was left of the invoice, which is now cancelled."),
    )
    # Where the credit went (positive amounts adding up to minus the total): off what was
    # still due on the invoice, then, for the rest, as staff chose.
    amount_off_due = money_field(_("off the amount due"))
    account_credit_amount = money_field(_("to account credit"))
    refund_amount = money_field(_("refunded"))
    settled_outside_amount = money_field(_("settled outside"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    # The start of the issuing transaction, set by the database: its lines may be written
    # only while that transaction lasts (see CreditNoteLine's trigger).
    created_at = models.DateTimeField(_("issued at"), db_default=TransactionNow())
    buyer_reference = models.CharField(
        _("buyer reference"),
        max_length=100,
        blank=True,
        help_text=_("The invoice's."),
        validators=[single_line],
    )
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # The credit posted to the customer's ledger by the transaction that issued it.
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        editable=False,
        related_name="credit_note",
        verbose_name=_("ledger entry"),
    )

    class Meta(Document.Meta):
        ordering = ["-issue_date", "-sequence_number"]
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        indexes = [
            models.Index(fields=["pdf_status", "created_at"]),
            # The API's keyset pages (``coworking.api.pagination``), staff's and a member's.
            models.Index(
                fields=["-issue_date", "-sequence_number", "-id"], name="credit_note_keyset"
            ),
            models.Index(
                fields=["customer", "-issue_date", "-sequence_number", "-id"],
                name="credit_note_customer_keyset",
            ),
        ]
        constraints = [
            *Document.Meta.constraints,
            models.UniqueConstraint(
                fields=["location", "sequence_number"],
                name="credit_note_number_unique_per_location",
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="credit_note_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(sequence_number__isnull=True, number="")
                | (Q(sequence_number__isnull=False) & ~Q(number="")),
                name="credit_note_numbered_together",
            ),
            models.CheckConstraint(condition=PARTIES_RECORDED, name="credit_note_with_parties"),
            models.CheckConstraint(
                condition=Q(net_total__lte=0, tax_total__lte=0), name="credit_note_not_positive"
            ),
            models.CheckConstraint(
                condition=Q(
                    amount_off_due__gte=0,
                    account_credit_amount__gte=0,
                    refund_amount__gte=0,
                    settled_outside_amount__gte=0,
                    amount_off_due_currency=F("currency"),
                    account_credit_amount_currency=F("currency"),
                    refund_amount_currency=F("currency"),
                    settled_outside_amount_currency=F("currency"),
                )
                & Q(
                    total=exact_money(
                        -(
                            F("amount_off_due")
                            + F("account_credit_amount")
                            + F("refund_amount")
                            + F("settled_outside_amount")
                        )
                    )
                ),
                name="credit_note_allocation_adds_up",
            ),
            VatCurrencyFields.vat_currency_constraint("credit_note", credited=True),
        ]
        triggers = [
            Guard(name="no_delete", operation=pgtrigger.Delete),
            Guard(
                name="frozen",
                operation=pgtrigger.Update,
                condition=any_changed(*FROZEN_CREDIT_NOTE_FIELDS)
                | (pgtrigger.Q(old__sequence_number__isnull=False) & any_changed(*NUMBER_FIELDS)),
            ),
            no_truncate("credit_note"),
            pdf_fixed_once_recorded(),
            dates_follow_numbers(table="credits_creditnote", document="credit note"),
            # At commit: its ledger entry is its credit, as issued.
            GuardTrigger(
                name="credit_note_posted_as_issued",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                func=POSTED_AS.format(
                    kinds="'credit_note'",
                    customer="NEW.customer_id",
                    amount="NEW.total",
                    currency="NEW.currency",
                    number="NEW.invoice_number",
                    date="NEW.issue_date",
                )
                + "RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def customer_reason(self) -> str:
        """The reason the customer reads (PDF, e-mail, the e-invoice's note): the reason
        code's label in the active language, nothing for ``other``. The free-text ``reason``
        is internal (staff notes) and never leaves the back-office."""
        if self.reason_code == ReasonCode.OTHER:
            return ""
        return str(self.get_reason_code_display())


class CreditNoteLine(VatLineFields, LineAllowanceFields, DocumentLine):
    """A credited line: the credited part of one invoice line (``invoice_line``: its
    description, price, VAT category, exemption reason and service period, with quantity, net
    and tax reversed), or a free amount at a tax rate of the invoice (no ``invoice_line``:
    quantity −1, the amount as unit price)."""

    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, related_name="lines", verbose_name=_("credit note")
    )
    invoice_line = models.ForeignKey(
        InvoiceLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_lines",
        verbose_name=_("invoice line"),
    )

    class Meta(DocumentLine.Meta):
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        constraints = [
            *DocumentLine.Meta.constraints,
            models.UniqueConstraint(
                fields=["credit_note", "position"], name="credit_note_line_position"
            ),
            models.CheckConstraint(
                condition=Q(quantity__lt=0, net__lte=0, tax__lte=0),
                name="credit_note_line_reversed_sign",
            ),
            *line_constraints("credit_note_line"),
            line_allowance_constraint("credit_note_line"),
        ]
        triggers = [
            *append_only("credit_note_line"),
            # A note's lines are written by the transaction that issues it, never later:
            # its created_at is that transaction's start (transaction_timestamp()).
            GuardTrigger(
                name="credit_note_line_only_at_issue",
                operation=pgtrigger.Insert,
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                referencing=pgtrigger.Referencing(new="new_lines"),
                func=f"""
                    IF EXISTS (
                        SELECT 1 FROM new_lines line
                        LEFT JOIN {CreditNote._meta.db_table} note
                            ON note.id = line.credit_note_id
                        WHERE note.created_at IS DISTINCT FROM transaction_timestamp()
                    ) THEN
                        RAISE EXCEPTION 'Lines can only be added to a credit note while it is issued'
                            USING ERRCODE = '{REFUSED}';
                    END IF;
                    RETURN NULL;
                """,
            ),
        ]


class CancellationEvent(models.Model):
    """Audit trail: who cancelled which invoice, when, why and through which channel."""

    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.PROTECT,
        related_name="cancellation_event",
        verbose_name=_("invoice"),
    )
    credit_note = models.OneToOneField(
        CreditNote,
        on_delete=models.PROTECT,
        related_name="cancellation_event",
        verbose_name=_("credit note"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    reason = models.TextField(_("reason"), blank=True)
    previous_state = models.CharField(_("state before"), max_length=20)
    amount_paid = money_field(_("paid before cancelling"))
    started_at = models.DateTimeField(_("started at"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        triggers = append_only("cancellation_event")
        verbose_name = _("cancellation event")
        verbose_name_plural = _("cancellation events")

    def __str__(self) -> str:
        return f"{self.invoice_id} → {self.credit_note_id}"


class Refund(models.Model):
    """Account credit that leaves the customer's account: money paid back (a refund, e.g. by
    bank transfer) or credit settled outside the system. Either the part of a credit note
    beyond what was due that staff chose not to keep as account credit (``credit_note``
    set), or a later refund of available account credit (``credit_note`` empty). Each has
    its own debit on the ledger; rows are append-only."""

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refund")
        SETTLED_OUTSIDE = "settled_outside", _("Settled outside")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = money_field(_("amount"))
    credit_note = models.ForeignKey(
        CreditNote,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("credit note"),
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # The debit posted to the customer's ledger when it was recorded.
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        editable=False,
        related_name="refund",
        verbose_name=_("ledger entry"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["credit_note", "kind"],
                condition=Q(credit_note__isnull=False),
                name="refund_one_per_credit_note_and_kind",
            ),
        ]
        triggers = [
            *append_only("refund"),
            # At commit: its ledger entry is its debit, of its kind, naming the invoice of
            # its credit note (if any).
            GuardTrigger(
                name="refund_posted_as_recorded",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                func=POSTED_AS.format(
                    kinds="NEW.kind",
                    customer="NEW.customer_id",
                    amount="NEW.amount",
                    currency="NEW.amount_currency",
                    number="COALESCE((SELECT invoice_number FROM credits_creditnote"
                    " WHERE id = NEW.credit_note_id), '')",
                    date="entry.document_date",
                )
                + "RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class BulkCancellation(models.Model):
    """A large admin selection cancelled in the background, one invoice at a time.

    Progress lives in the database (one item row per selected invoice, its outcome written
    in the same transaction as the cancel itself), so any web process can show it and any
    worker can run it; the page survives reloads and the results stay afterwards.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.ADMIN_BULK
    )
    reason = models.TextField(_("reason"), blank=True)
    total = models.PositiveIntegerField(_("invoices selected"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    started_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    # Written by the runner as it goes: a run whose heartbeat is older than
    # BULK_CANCELLATION_STALE_AFTER lost its worker, and beat queues it again.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bulk cancellation")
        verbose_name_plural = _("bulk cancellations")

    def __str__(self) -> str:
        return _("Bulk cancellation #%(id)s") % {"id": self.pk}


class BulkCancellationItem(models.Model):
    """The outcome of one invoice of a bulk cancellation (``pending`` until processed)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        CANCELLED = "cancelled", _("Cancelled")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    bulk = models.ForeignKey(
        BulkCancellation,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("bulk cancellation"),
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="+", verbose_name=_("invoice")
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    credit_note = models.ForeignKey(
        CreditNote,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("credit note"),
    )
    message = models.TextField(_("message"), blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    # The invoice's figures as the confirmation page showed them (``invoice_figures``): the
    # run cancels it only if they still hold under its lock.
    as_shown = models.JSONField(_("figures as shown"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["bulk", "id"]
        verbose_name = _("bulk cancellation item")
        verbose_name_plural = _("bulk cancellation items")
        indexes = [models.Index(fields=["bulk", "outcome"])]
        constraints = [
            models.UniqueConstraint(fields=["bulk", "invoice"], name="bulk_item_invoice_once"),
            models.CheckConstraint(
                condition=Q(outcome="cancelled", credit_note__isnull=False)
                | (~Q(outcome="cancelled") & Q(credit_note__isnull=True)),
                name="bulk_item_credit_note_iff_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.outcome}"


class ReconciliationCheckpoint(models.Model):
    """Where a clean ``reconcile`` stood: the highest id of each table it covered
    (``positions``, read when it started) and when it started. ``reconcile --incremental``
    checks only what came after the newest one; a clean run (full or incremental) adds a
    row, a run that finds a breach adds none, so the next incremental run looks at the same
    rows again. The rows are the history of clean runs."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), auto_now_add=True)
    incremental = models.BooleanField(_("incremental"), default=False)
    positions = models.JSONField(_("positions"), default=dict)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("reconciliation checkpoint")
        verbose_name_plural = _("reconciliation checkpoints")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({'incremental' if self.incremental else 'full'})"
