"""Invoices, their lines and payments.

An invoice is a draft (no number, editable, deletable) until it is issued; then it has a
number from its location's gapless series and its amounts are frozen. The database holds
those rules: check constraints tie state, number, paid and credited amounts together, and triggers
refuse DELETE of issued invoices, UPDATE of their identifying fields and amounts, any
change to the lines of an issued invoice, and any change once cancelled but to the stored
PDF's bookkeeping, and TRUNCATE. The only fields that move after issue are the state, the paid and
credited amounts (both only grow) and the cancellation record, through the services in
``invoicing.services`` and ``credits.services``, and the PDF's bookkeeping
(``coworking.documents``): the PDF shows the invoice as issued, so it is rendered once and
never changes with later payments.

Amount due = total − paid − credited, never below zero: a credit note first reduces what is
still due, and what it credits beyond that (the invoice was paid) is allocated by the credits
app. An invoice credited in full, by one credit note or by several, is cancelled: the state
``cancelled`` and "credited = total" go together (a check constraint). Checks deferred to commit make sure the state moves only with what justifies it: the paid
amount is the sum of the payments (each on the ledger), and a cancelled invoice is credited
in full (a trigger of the credits app).
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from coworking.allowances import LineAllowanceFields, line_allowance_constraint
from coworking.billable_items import BillableItem
from coworking.documents.models import PARTIES_RECORDED, Document, DocumentLine
from coworking.models import Customer, LedgerEntry, Location
from coworking.money import exact_money, format_money, money_field
from coworking.text import single_line
from coworking.triggers import (
    REFUSED,
    Guard,
    GuardTrigger,
    any_changed,
    append_only,
    changed_except,
    dates_follow_numbers,
    no_truncate,
    pdf_fixed_once_recorded,
)
from coworking.vat import VatCurrencyFields, VatLineFields, line_constraints
from coworking.vat_rules import SupplyKind
from invoicing.allowance_charges import InvoiceAllowanceCharge  # noqa: F401  (registered here)
from invoicing.prepared_statements import PreparedStatement  # noqa: F401  (registered here)

FROZEN_INVOICE_FIELDS = (
    "vat_rounding",
    "location",
    "customer",
    "sequence_number",
    "number",
    "issue_date",
    "due_date",
    "currency",
    "net_total",
    "net_total_currency",
    "tax_total",
    "tax_total_currency",
    "total",
    "total_currency",
    "buyer_reference",
    "order_reference",
    "vat_currency",
    "vat_exchange_rate",
    "tax_total_vat_currency",
    "seller",
    "buyer",
    "issued_at",
    "payment_reference",
    "payee_account",
    "ledger_entry",
)

# A constraint trigger's body (checked at commit, once every row of the transaction is
# written): the paid amount of invoice ``{invoice_id}`` is the sum of its payments.
_PAID_IS_SUM_OF_PAYMENTS = f"""
    IF EXISTS (
        SELECT 1 FROM invoicing_invoice invoice
        WHERE invoice.id = {{invoice_id}} AND invoice.amount_paid <> (
            SELECT COALESCE(SUM(payment.amount), 0) FROM invoicing_payment payment
            WHERE payment.invoice_id = invoice.id
        )
    ) THEN
        RAISE EXCEPTION 'The paid amount of invoice % is not the sum of its payments',
            {{invoice_id}} USING ERRCODE = '{REFUSED}';
    END IF;
"""

# A constraint trigger's body: the ledger entry ``NEW`` points at is of one of ``{kinds}``
# and records ``{amount}`` in ``{currency}`` for ``{customer}``, posted with the invoice
# number ``{number}`` and the document date ``{date}``. Shared with the credits app.
POSTED_AS = f"""
    IF NOT EXISTS (
        SELECT 1 FROM coworking_ledgerentry entry
        WHERE entry.id = NEW.ledger_entry_id AND entry.kind IN ({{kinds}})
            AND entry.customer_id = {{customer}} AND entry.amount = {{amount}}
            AND entry.amount_currency = {{currency}}
            AND entry.document_number = {{number}} AND entry.document_date = {{date}}
    ) THEN
        RAISE EXCEPTION '% % is not posted as it is on ledger entry %',
            TG_TABLE_NAME, NEW.id, NEW.ledger_entry_id USING ERRCODE = '{REFUSED}';
    END IF;
"""


class Channel(models.TextChoices):
    """Where an operation came from, recorded on the documents and audit events."""

    ADMIN = "admin", _("Admin")
    ADMIN_BULK = "admin_bulk", _("Admin (bulk)")
    API = "api", _("API")
    CLI = "cli", _("Command line")
    SYSTEM = "system", _("System")


class Invoice(VatCurrencyFields, Document):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    PDF_KIND = "invoice"
    PDF_SWEEP_SINCE = "issued_at"

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("location")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("customer")
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    sequence_number = models.PositiveIntegerField(_("sequence number"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=32, blank=True, default="")
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    amount_paid = money_field(_("paid"))
    # The sum of the totals of its credit notes (positive), kept by ``credits.services``.
    amount_credited = money_field(_("credited"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    # The debit posted when it was issued; none while a draft or when there is nothing to pay.
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="invoice",
        verbose_name=_("ledger entry"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancellation_channel = models.CharField(
        _("cancelled through"), max_length=20, choices=Channel.choices, blank=True
    )
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True)
    buyer_reference = models.CharField(
        _("buyer reference"),
        max_length=100,
        blank=True,
        help_text=_(
            "The customer's reference for this invoice (EN 16931 BT-10); at issue, "
            "the customer's default, else the invoice number."
        ),
        validators=[single_line],
    )
    order_reference = models.CharField(
        _("purchase order"),
        max_length=100,
        blank=True,
        help_text=_("EN 16931 BT-13."),
        validators=[single_line],
    )
    # Frozen at issue (``invoicing.payment_means``): what the customer quotes (BT-83) and
    # the location's account in the invoice's currency then (BT-84..86), empty without one.
    payment_reference = models.CharField(
        _("payment reference"), max_length=35, blank=True, default="", editable=False
    )
    payee_account = models.JSONField(
        _("bank account, as issued"), default=dict, blank=True, editable=False
    )

    class Meta(Document.Meta):
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        permissions = [
            ("cancel_invoice", "Can cancel invoices (issues a credit note)"),
            ("issue_credit_note", "Can credit part of an invoice (issues a credit note)"),
        ]
        indexes = [
            models.Index(fields=["state", "-issue_date"]),
            models.Index(fields=["customer", "currency", "state"]),
            # The API's keyset pages (``coworking.api.pagination``), staff's and a member's:
            # page 1,000 is an index range like page 1.
            models.Index(fields=["-issue_date", "-id"], name="invoice_keyset"),
            models.Index(fields=["customer", "-issue_date", "-id"], name="invoice_customer_keyset"),
            models.Index(fields=["currency", "-issue_date"], name="invoice_currency"),
            # Overdue: the open invoices by due date, not the settled history.
            models.Index(
                fields=["due_date"],
                condition=Q(state__in=["issued", "partially_paid"]),
                name="invoice_open_due",
            ),
            # The PDF sweep's query: few rows, however many invoices there are.
            models.Index(
                fields=["issued_at"],
                condition=Q(pdf_status="pending") & ~Q(state="draft"),
                name="invoice_pdf_pending",
            ),
        ]
        constraints = [
            *Document.Meta.constraints,
            models.UniqueConstraint(
                fields=["location", "sequence_number"], name="invoice_number_unique_per_location"
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="invoice_number_unique"
            ),
            models.UniqueConstraint(
                fields=["payment_reference"],
                condition=~Q(payment_reference=""),
                name="invoice_payment_reference_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="draft", sequence_number__isnull=True, number="")
                    | (
                        ~Q(state="draft")
                        & Q(
                            sequence_number__isnull=False,
                            issue_date__isnull=False,
                            due_date__isnull=False,
                            issued_at__isnull=False,
                        )
                        & ~Q(number="")
                    )
                ),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | PARTIES_RECORDED, name="invoice_issued_with_parties"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid_currency=F("currency")), name="invoice_paid_in_currency"
            ),
            models.CheckConstraint(
                condition=Q(net_total__gte=0, tax_total__gte=0), name="invoice_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_paid__lte=F("total")),
                name="invoice_paid_within_total",
            ),
            models.CheckConstraint(
                condition=Q(amount_credited_currency=F("currency")),
                name="invoice_credited_in_currency",
            ),
            models.CheckConstraint(
                condition=Q(amount_credited__gte=0, amount_credited__lte=F("total")),
                name="invoice_credited_within_total",
            ),
            # What is left to pay is total − credited − paid: paid when nothing is left.
            models.CheckConstraint(
                condition=(
                    Q(state="draft", amount_paid=0, amount_credited=0)
                    | Q(state="issued", amount_paid=0)
                    | Q(
                        state="partially_paid",
                        amount_paid__gt=0,
                        amount_paid__lt=exact_money(F("total") - F("amount_credited")),
                    )
                    | Q(
                        Q(amount_paid__gt=0) | Q(total=0),
                        state="paid",
                        amount_paid__gte=exact_money(F("total") - F("amount_credited")),
                    )
                    | Q(state="cancelled")
                ),
                name="invoice_state_matches_paid",
            ),
            # Fully credited counts as cancelled, and cancelled means fully credited.
            models.CheckConstraint(
                condition=Q(state="cancelled", amount_credited=F("total"))
                | (
                    ~Q(state="cancelled")
                    & (Q(amount_credited__lt=F("total")) | Q(amount_credited=0))
                ),
                name="invoice_cancelled_iff_fully_credited",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="cancelled", cancelled_at__isnull=False)
                    | (~Q(state="cancelled") & Q(cancelled_at__isnull=True))
                ),
                name="invoice_cancelled_iff_cancelled_at",
            ),
            models.CheckConstraint(
                condition=Q(state="cancelled")
                | Q(cancelled_by__isnull=True, cancellation_channel="", cancellation_reason=""),
                name="invoice_cancellation_record_only_when_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True) | Q(due_date__gte=F("issue_date")),
                name="invoice_due_after_issue",
            ),
            VatCurrencyFields.vat_currency_constraint("invoice", credited=False),
            # Posted when issued (a trigger checks the entry is its debit, as issued).
            models.CheckConstraint(
                condition=~Q(state="draft") | Q(ledger_entry__isnull=True),
                name="invoice_draft_not_on_ledger",
            ),
        ]
        triggers = [
            Guard(
                name="issued_no_delete",
                operation=pgtrigger.Delete,
                condition=~pgtrigger.Q(old__state="draft"),
            ),
            Guard(
                name="issued_frozen",
                operation=pgtrigger.Update,
                condition=~pgtrigger.Q(old__state="draft") & any_changed(*FROZEN_INVOICE_FIELDS),
            ),
            Guard(
                name="cancelled_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f"OLD.state = 'cancelled' AND {changed_except(*Document.PDF_FIELDS)}"
                ),
            ),
            Guard(
                name="paid_never_decreases",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(new__amount_paid__lt=pgtrigger.F("old__amount_paid")),
            ),
            Guard(
                name="credited_never_decreases",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(new__amount_credited__lt=pgtrigger.F("old__amount_credited")),
            ),
            # Paid or partially paid only with the payments to show for it (the state
            # follows the paid amount by the check constraint above). Cancelled only with
            # its credit notes: a trigger in the credits app.
            GuardTrigger(
                name="paid_is_sum_of_payments",
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("state", "amount_paid"),
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                func=_PAID_IS_SUM_OF_PAYMENTS.format(invoice_id="NEW.id") + "RETURN NULL;",
            ),
            # At commit: its ledger entry is its debit, as issued.
            GuardTrigger(
                name="invoice_posted_as_issued",
                operation=pgtrigger.Insert | pgtrigger.UpdateOf("ledger_entry_id"),
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                condition=pgtrigger.Condition("NEW.ledger_entry_id IS NOT NULL"),
                func=POSTED_AS.format(
                    kinds="'invoice'",
                    customer="NEW.customer_id",
                    amount="NEW.total",
                    currency="NEW.currency",
                    number="NEW.number",
                    date="NEW.issue_date",
                )
                + "RETURN NULL;",
            ),
            no_truncate("invoice"),
            dates_follow_numbers(table="invoicing_invoice", document="invoice"),
            pdf_fixed_once_recorded(),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft #%(id)s") % {"id": self.pk}

    @property
    def amount_due(self) -> Money:
        """Total − paid − credited, never below zero (nothing is due on a draft)."""
        if self.state in (self.State.DRAFT, self.State.CANCELLED):
            return Money(0, self.currency)
        return max(self.total - self.amount_paid - self.amount_credited, Money(0, self.currency))

    @property
    def amount_creditable(self) -> Money:
        """What credit notes may still credit: total − credited (nothing on a draft)."""
        if self.state == self.State.DRAFT:
            return Money(0, self.currency)
        return self.total - self.amount_credited

    def settled_state(self) -> str:
        """The state its paid and credited amounts call for, short of cancelled: ``issued``
        (nothing paid), ``paid`` (nothing left to pay) or ``partially_paid``."""
        if self.amount_paid.amount == 0:
            return self.State.ISSUED
        if self.amount_paid + self.amount_credited >= self.total:
            return self.State.PAID
        return self.State.PARTIALLY_PAID


class InvoiceLine(VatLineFields, LineAllowanceFields, DocumentLine):
    """One line: what was sold, at which price and VAT rate, its VAT category (with the
    exemption reason where the category needs one) and, for services billed per period,
    the period it covers."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice")
    )
    # What was sold decides the VAT (``coworking.vat_rules``); a line typed by hand has no
    # supply kind. An override of the rules' VAT keeps staff's reason.
    billable_item = models.ForeignKey(
        BillableItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("billable item"),
    )
    supply_kind = models.CharField(
        _("supply kind"), max_length=20, choices=SupplyKind.choices, blank=True, db_default=""
    )
    vat_override_reason = models.CharField(
        _("VAT override reason"),
        max_length=200,
        blank=True,
        db_default="",
        help_text=_("Why this line's VAT differs from what its supply kind gives."),
        validators=[single_line],
    )
    allowance_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )

    class Meta(DocumentLine.Meta):
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            *DocumentLine.Meta.constraints,
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="invoice_line_price_not_negative"
            ),
            *line_constraints("invoice_line"),
            models.CheckConstraint(
                condition=Q(vat_override_reason="") | ~Q(supply_kind=""),
                name="invoice_line_override_needs_supply_kind",
            ),
            line_allowance_constraint("invoice_line"),
            models.CheckConstraint(
                condition=Q(allowance_percent__isnull=True)
                | Q(allowance_percent__gt=0, allowance_percent__lte=100),
                name="invoice_line_allowance_percent_range",
            ),
        ]
        triggers = [
            # Lines of an issued invoice are as frozen as the invoice itself.
            GuardTrigger(
                name="frozen_after_issue",
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                when=pgtrigger.Before,
                func=pgtrigger.Func(
                    """
                    IF EXISTS (
                        SELECT 1 FROM invoicing_invoice
                        WHERE state <> 'draft' AND id IN (
                            CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.invoice_id END,
                            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.invoice_id END
                        )
                    ) THEN
                        RAISE EXCEPTION 'Lines of an issued invoice cannot be changed'
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                    """
                ),
            ),
            no_truncate("invoice_line"),
        ]


class Payment(models.Model):
    """Money received against one invoice, or account credit applied to it.

    Account credit (``method=account_credit``) moves no value: the credit already shows as
    a negative ledger balance, so applying it posts no ledger entry; it only settles the
    invoice, lowering its amount due.
    """

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        CASH = "cash", _("Cash")
        ACCOUNT_CREDIT = "account_credit", _("Account credit")

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name=_("invoice")
    )
    amount = money_field(_("amount"))
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # The one-time token of the form that asked for it: a form submitted twice (two posts
    # at once, or a re-post) records one payment; unique, so the database holds the rule.
    submission_token = models.UUIDField(_("submission token"), null=True, blank=True, unique=True)
    # The credit posted for money received; none for account credit (already on the ledger).
    ledger_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="payment",
        verbose_name=_("ledger entry"),
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["-received_on", "-id"], name="payment_list_order"),
            models.Index(fields=["method", "-received_on"], name="payment_method"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(method="account_credit", ledger_entry__isnull=True)
                | ~Q(method="account_credit") & Q(ledger_entry__isnull=False),
                name="payment_on_ledger_unless_credit",
            ),
        ]
        triggers = [
            *append_only("payment"),
            # At commit: the invoice's paid amount counts this payment, and money received
            # is on the customer's ledger (account credit is already there).
            GuardTrigger(
                name="payment_paid_and_posted",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                timing=pgtrigger.Deferred,
                func=_PAID_IS_SUM_OF_PAYMENTS.format(invoice_id="NEW.invoice_id")
                + "IF NEW.ledger_entry_id IS NOT NULL THEN"
                + POSTED_AS.format(
                    kinds="'payment'",
                    customer="(SELECT customer_id FROM invoicing_invoice WHERE id = NEW.invoice_id)",
                    amount="-NEW.amount",
                    currency="NEW.amount_currency",
                    number="(SELECT number FROM invoicing_invoice WHERE id = NEW.invoice_id)",
                    date="NEW.received_on",
                )
                + "END IF; RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return f"{format_money(self.amount)} ({self.get_method_display()})"
