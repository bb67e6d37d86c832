"""Credit notes and the record of each cancellation.

A credit note cancels all of one invoice: it mirrors each invoice line with the sign
reversed (negative quantity, net, tax and gross; same description, unit price and tax
rate), so its totals per tax rate are the invoice's to the cent, in the same currency. It
takes its number from its location's credit-note series. One invoice has at most one
credit note (a unique constraint); the database refuses DELETE and TRUNCATE of credit
notes and lines, UPDATE of lines, UPDATE of anything on a credit note but its PDF and
e-mail bookkeeping, and lines added after the transaction that issued the note.
"""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.functions import TransactionNow
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coworking.documents.models import Document, DocumentLine
from coworking.models import Customer, Location
from coworking.money import money_field
from coworking.triggers import REFUSED, any_changed, append_only, dates_follow_numbers, no_truncate
from coworking.vat import VatCurrencyFields, VatLineFields, line_constraints
from invoicing.models import Channel, Invoice

FROZEN_CREDIT_NOTE_FIELDS = (
    "location",
    "customer",
    "invoice",
    "invoice_number",
    "invoice_issue_date",
    "sequence_number",
    "number",
    "issue_date",
    "currency",
    "reason",
    "created_by",
    "channel",
    "created_at",
    "net_total",
    "net_total_currency",
    "tax_total",
    "tax_total_currency",
    "total",
    "total_currency",
    "buyer_reference",
    "vat_currency",
    "vat_exchange_rate",
    "tax_total_vat_currency",
    "seller",
    "buyer",
)


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
    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, related_name="credit_note", verbose_name=_("invoice")
    )
    invoice_number = models.CharField(_("invoice number"), max_length=32)
    invoice_issue_date = models.DateField(_("invoice date"))
    sequence_number = models.PositiveIntegerField(_("sequence number"))
    number = models.CharField(_("number"), max_length=32, unique=True)
    issue_date = models.DateField(_("issue date"))
    reason = models.TextField(_("reason"), blank=True)
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
        _("buyer reference"), max_length=100, blank=True, help_text=_("The invoice's.")
    )
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta(Document.Meta):
        ordering = ["-issue_date", "-sequence_number"]
        indexes = [
            models.Index(fields=["pdf_status", "created_at"]),
            models.Index(fields=["customer", "-issue_date"]),
        ]
        constraints = [
            *Document.Meta.constraints,
            models.UniqueConstraint(
                fields=["location", "sequence_number"],
                name="credit_note_number_unique_per_location",
            ),
            models.CheckConstraint(
                condition=Q(net_total__lte=0, tax_total__lte=0), name="credit_note_not_positive"
            ),
            VatCurrencyFields.vat_currency_constraint("credit_note", credited=True),
        ]
        triggers = [
            pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete),
            pgtrigger.Protect(
                name="frozen",
                operation=pgtrigger.Update,
                condition=any_changed(*FROZEN_CREDIT_NOTE_FIELDS),
            ),
            no_truncate("credit_note"),
            dates_follow_numbers(table="credits_creditnote", document="credit note"),
        ]

    def __str__(self) -> str:
        return self.number



class CreditNoteLine(VatLineFields, DocumentLine):
    """A credited line: the invoice line's description, price, VAT category, exemption
    reason and service period, with quantity, net and tax reversed."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")

    class Meta(DocumentLine.Meta):
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
        ]
        triggers = [
            *append_only("credit_note_line"),
            # A note's lines are written by the transaction that issues it, never later:
            # its created_at is that transaction's start (transaction_timestamp()).
            pgtrigger.Trigger(
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
        Invoice, on_delete=models.PROTECT, related_name="cancellation_event"
    )
    credit_note = models.OneToOneField(
        CreditNote, on_delete=models.PROTECT, related_name="cancellation_event"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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

    def __str__(self) -> str:
        return f"{self.invoice_id} → {self.credit_note_id}"


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

    bulk = models.ForeignKey(BulkCancellation, on_delete=models.CASCADE, related_name="items")
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

    class Meta:
        ordering = ["bulk", "id"]
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
