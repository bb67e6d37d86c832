"""An EN 16931 document as plain values: what an invoice or credit note states, in the
terms of the norm, whatever the syntax it is written in.

``invoicing.einvoice`` and ``credits.einvoice`` fill it from the database;
``coworking.einvoice.syntax`` writes it as CII or UBL. Amounts are positive ``Decimal``s in
the document's currency (a credit note states what it credits; its type says it credits).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from coworking.money import round_amount
from coworking.vat import VatCategory, exemption_wording


class Syntax(models.TextChoices):
    CII = "cii", _("CII (Factur-X, EN 16931 profile)")
    UBL = "ubl", _("UBL 2.1 (Peppol BIS Billing 3.0)")


class TypeCode(models.TextChoices):
    """UNTDID 1001 document types (BT-3)."""

    INVOICE = "380", _("Commercial invoice")
    CREDIT_NOTE = "381", _("Credit note")


@dataclass(frozen=True)
class Party:
    """Seller (BG-4) or buyer (BG-7)."""

    name: str
    country: str
    street_lines: tuple[str, ...] = ()
    postcode: str = ""
    city: str = ""
    trading_name: str = ""
    vat_id: str = ""
    registration_id: str = ""
    registration_scheme: str = ""
    legal_info: str = ""  # BT-33, seller only: legal form, share capital, register
    electronic_address: str = ""
    electronic_address_scheme: str = ""
    email: str = ""
    iban: str = ""  # the buyer's account for refunds (never written in BG-4/BG-7)
    business: bool = False  # buyer: a company (business-to-business mentions apply)
    # Seller, France: the terms its business invoices state (Code de commerce L441-10).
    late_payment_rate: str = ""  # % a year; empty: the statutory rate
    early_payment_discount: str = ""  # empty: none granted
    vat_on_debits: bool = False


SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461 payment means codes (BT-81)
CREDIT_TRANSFER = "30"


@dataclass(frozen=True)
class PaymentMeans:
    """How the amount is paid (BG-16): a credit transfer (BT-81: 58 SEPA, 30 another
    currency) to an account (BG-17: IBAN BT-84, holder BT-85, BIC BT-86), quoting a
    reference (BT-83). On an invoice the seller's account; on a credit note that refunds,
    the customer's, where the refund goes."""

    code: str
    iban: str
    account_name: str = ""
    bic: str = ""
    reference: str = ""

    @property
    def is_sepa(self) -> bool:
        return self.code == SEPA_CREDIT_TRANSFER

    @property
    def label(self) -> str:
        """BT-82, the means as text."""
        return "SEPA credit transfer" if self.is_sepa else "Credit transfer"


class NoteSubject(models.TextChoices):
    """UNTDID 4451 subject codes of document notes (BT-21)."""

    PENALTIES = "PMT", _("Late-payment penalties")
    RECOVERY_COSTS = "PMD", _("Recovery costs")
    DISCOUNT = "AAB", _("Early-payment discount")
    TAX = "TXD", _("Tax declaration")


@dataclass(frozen=True)
class Note:
    """A document note (BG-1): its text, with its subject code where it has one."""

    text: str
    subject: str = ""


@dataclass(frozen=True)
class Line:
    """One invoice or credit-note line (BG-25); quantity and net positive."""

    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    tax: Decimal
    vat_category: str
    vat_rate: Decimal
    exemption_reason: str = ""
    exemption_reason_code: str = ""
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    # BG-27: the line's discount, taken off quantity × unit price (BT-136..BT-140).
    allowance: Decimal = Decimal("0.00")
    allowance_percent: Decimal | None = None
    allowance_reason: str = ""
    allowance_reason_code: str = ""

    @property
    def gross(self) -> Decimal:
        """Quantity × unit price, rounded: the base of the line's allowance (BT-137)."""
        return round_amount(self.quantity * self.unit_price)

    @classmethod
    def of(cls, line) -> "Line":
        """From an invoice or credit-note line (credited amounts are stored negative); its
        exemption reason in the active language (the document's) where the product wrote it."""
        return cls(
            position=line.position,
            description=line.description,
            quantity=abs(line.quantity),
            unit_price=line.unit_price.amount,
            net=abs(line.net.amount),
            tax=abs(line.tax.amount),
            vat_category=line.vat_category,
            vat_rate=line.tax_rate,
            exemption_reason=exemption_wording(line.vat_exemption_reason),
            exemption_reason_code=line.vat_exemption_reason_code,
            period_start=line.period_start,
            period_end=line.period_end,
            allowance=getattr(line, "allowance", None) or Decimal("0.00"),
            allowance_percent=getattr(line, "allowance_percent", None),
            allowance_reason=getattr(line, "allowance_reason", ""),
            allowance_reason_code=getattr(line, "allowance_reason_code", ""),
        )


@dataclass(frozen=True)
class AllowanceCharge:
    """A document level allowance (BG-20, BT-92..BT-98) or charge (BG-21, BT-99..BT-105):
    its amount positive, its base and percentage where one was given, the VAT breakdown
    whose base it moves, why."""

    charge: bool
    amount: Decimal
    vat_category: str
    vat_rate: Decimal
    reason: str
    reason_code: str = ""
    base_amount: Decimal | None = None
    percent: Decimal | None = None

    @property
    def signed(self) -> Decimal:
        """What it adds to the tax basis."""
        return self.amount if self.charge else -self.amount

    @classmethod
    def of(cls, row) -> "AllowanceCharge":
        """From an invoice's or credit note's stored row (its amounts positive on both)."""
        return cls(
            charge=row.is_charge,
            amount=row.amount.amount,
            vat_category=row.vat_category,
            vat_rate=row.tax_rate,
            reason=row.reason,
            reason_code=row.reason_code,
            base_amount=row.base_amount.amount if row.base_amount is not None else None,
            percent=row.percent,
        )


@dataclass(frozen=True)
class VatBreakdown:
    """One VAT breakdown (BG-23): a category, and for standard rate one rate."""

    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_reason: str = ""
    exemption_reason_code: str = ""


@dataclass(frozen=True)
class Document:
    type_code: str
    number: str
    issue_date: datetime.date
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    due_date: datetime.date | None = None
    payment_terms: str = ""
    buyer_reference: str = ""
    order_reference: str = ""
    vat_currency: str = ""  # BT-6, only when it differs from the document's currency
    tax_total_vat_currency: Decimal | None = None  # BT-111
    preceding_invoice: tuple[str, datetime.date] | None = None  # BT-25, BT-26
    note: str = ""
    prepaid: Decimal = Decimal("0.00")  # BT-113: account credit applied when issued
    payment_means: PaymentMeans | None = None  # BG-16
    notes: tuple[Note, ...] = ()  # BG-1 with subject codes, after ``note``
    vat_on_invoice_date: bool = False  # BT-8: VAT due at the invoice date (on debits)
    deliver_to: Party | None = None  # BG-13: where the service is performed
    allowance_charges: tuple[AllowanceCharge, ...] = ()  # BG-20, BG-21

    @property
    def line_total(self) -> Decimal:
        """BT-106: the sum of the lines' nets."""
        return sum((line.net for line in self.lines), Decimal("0.00"))

    @property
    def allowance_total(self) -> Decimal:
        """BT-107: the sum of the document level allowances."""
        return sum((a.amount for a in self.allowance_charges if not a.charge), Decimal("0.00"))

    @property
    def charge_total(self) -> Decimal:
        """BT-108: the sum of the document level charges."""
        return sum((a.amount for a in self.allowance_charges if a.charge), Decimal("0.00"))

    @property
    def all_notes(self) -> tuple[Note, ...]:
        return ((Note(self.note),) if self.note else ()) + self.notes

    @property
    def amount_due(self) -> Decimal:
        """BT-115: what is left to pay on the document as issued (the PDF prints it too)."""
        return self.total - self.prepaid

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == TypeCode.CREDIT_NOTE

    @property
    def outside_scope(self) -> bool:
        """Every line is outside the scope of VAT: no VAT id is stated (BR-O-02)."""
        return all(line.vat_category == VatCategory.OUTSIDE_SCOPE for line in self.lines)

    def vat_breakdown(self) -> list[VatBreakdown]:
        """BG-23: one entry per category and rate, summing the lines' net and tax, the base
        moved by the document level allowances and charges of that category and rate
        (BT-116); the exemption reason of the category (issuing checked there is one per
        category)."""
        groups: dict[tuple[str, Decimal], list[Line]] = defaultdict(list)
        for line in self.lines:
            groups[(line.vat_category, line.vat_rate)].append(line)
        moved: dict[tuple[str, Decimal], Decimal] = defaultdict(lambda: Decimal("0.00"))
        for row in self.allowance_charges:
            moved[(row.vat_category, row.vat_rate)] += row.signed
        return [
            VatBreakdown(
                category=category,
                rate=rate,
                taxable=sum((line.net for line in lines), moved[(category, rate)]),
                tax=sum((line.tax for line in lines), Decimal("0.00")),
                exemption_reason=lines[0].exemption_reason,
                exemption_reason_code=lines[0].exemption_reason_code,
            )
            for (category, rate), lines in sorted(groups.items(), key=_breakdown_order)
        ]


_CATEGORY_ORDER = {code: n for n, code in enumerate(VatCategory.values)}


def _breakdown_order(item):
    (category, rate), _lines = item
    return (_CATEGORY_ORDER.get(category, 99), -rate)


def goes_by_peppol(document: Document) -> bool:
    """A business-to-business document whose buyer has a Peppol address: its UBL must
    pass the Peppol BIS Billing 3.0 rules. Others go by e-mail or the portal."""
    return document.buyer.business and bool(document.buyer.electronic_address)
