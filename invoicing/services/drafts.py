"""Drafting invoices: their lines cleaned and priced with the one rounding rule, their totals."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.allowances import (
    REASON_MAX_LENGTH,
    AllowanceReason,
    allowance_problem,
    percent_allowance,
    reason_text,
)
from coworking.billable_items import BillableItem
from coworking.decimals import clean_decimal
from coworking.documents.rendering import document_language
from coworking.errors import CurrencyMismatch
from coworking.models import Customer
from coworking.money import money_sum
from coworking.vat import (
    DEFAULT_REASONS,
    EXEMPTION_REASON_CODES,
    EXEMPTION_REASON_MAX_LENGTH,
    NEEDS_REASON,
    VatCategory,
    category_rule_error,
)
from invoicing import line_vat
from invoicing.allowance_charges import InvoiceAllowanceCharge
from invoicing.calculations import (
    ZERO,
    document_net,
    line_net,
    precision_error,
    price_too_precise,
    quantity_too_precise,
    rate_adjustments,
    tax_shares,
)
from invoicing.document_allowances import AllowanceChargeInput, build_allowance_charges
from invoicing.errors import InvalidInvoiceLine, InvoiceHasNoLines, InvoiceNotDraft
from invoicing.models import Invoice, InvoiceLine
from invoicing.services.locks import invoice_lock

DEFAULT_PAYMENT_TERM_DAYS = 14


REFERENCE_MAX_LENGTH = 100


@dataclass(frozen=True)
class LineInput:
    """One line to bill. ``vat_category`` defaults to standard rated (S) above 0 % and
    zero rated (Z) at 0 %; reverse charge (AE) and outside scope (O) get their standard
    exemption wording when none is given; an exempt line (E) needs its reason. A
    service billed per period gives both ends of it."""

    description: str
    quantity: Decimal
    unit_price: Money | None
    tax_rate: Decimal | None
    vat_category: str | None = None
    vat_exemption_reason: str = ""
    vat_exemption_reason_code: str = ""
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    # What is sold: its VAT follows from the rules (``invoicing.line_vat``); description,
    # price and rate come from the item unless given. An override needs its reason.
    billable_item: BillableItem | None = None
    supply_kind: str = ""
    vat_override_reason: str = ""
    # A discount (``coworking.allowances``): an amount in cents or a percentage of
    # quantity × unit price, with a reason text and/or a UNTDID 5189 code.
    allowance: Decimal | None = None
    allowance_percent: Decimal | None = None
    allowance_reason: str = ""
    allowance_reason_code: str = ""


def _build_lines(
    *, lines: Sequence[LineInput], currency: str, customer: Customer
) -> list[InvoiceLine]:
    if not lines:
        raise InvoiceHasNoLines()
    built = []
    for position, line in enumerate(lines, start=1):
        line = line_vat.resolve(
            line, position=position, location=customer.location, customer=customer
        )
        description = (line.description or "").strip()
        if not description:
            raise InvalidInvoiceLine(_("Line %(n)s has no description.") % {"n": position})
        quantity = clean_decimal(line.quantity, field=_("Quantity"), error=InvalidInvoiceLine)
        tax_rate = clean_decimal(line.tax_rate, field=_("Tax rate"), error=InvalidInvoiceLine)
        if not isinstance(line.unit_price, Money):
            raise InvalidInvoiceLine(
                _("Line %(n)s: the unit price must be Money.") % {"n": position}
            )
        if str(line.unit_price.currency) != currency:
            raise CurrencyMismatch(
                _("Line %(n)s is in %(line)s but the invoice is in %(invoice)s.")
                % {"n": position, "line": line.unit_price.currency, "invoice": currency}
            )
        if quantity <= 0:
            raise InvalidInvoiceLine(
                _("Line %(n)s: the quantity must be positive.") % {"n": position}
            )
        if line.unit_price.amount < 0:
            raise InvalidInvoiceLine(
                _("Line %(n)s: the unit price cannot be negative.") % {"n": position}
            )
        if not (0 <= tax_rate < 100):
            raise InvalidInvoiceLine(
                _("Line %(n)s: the tax rate must be between 0 and 100%%.") % {"n": position}
            )
        _check_precision(quantity=quantity, unit_price=line.unit_price.amount, position=position)
        allowance = _allowance_fields(
            line,
            gross=line_net(quantity=quantity, unit_price=line.unit_price.amount),
            position=position,
            language=document_language(customer),
        )
        built.append(
            InvoiceLine(
                position=position,
                description=description[:200],
                quantity=quantity,
                unit_price=line.unit_price,
                tax_rate=tax_rate,
                net=Money(
                    line_net(
                        quantity=quantity,
                        unit_price=line.unit_price.amount,
                        allowance=allowance["allowance"],
                    ),
                    currency,
                ),
                **allowance,
                **_vat_fields(line, position=position, tax_rate=tax_rate),
                billable_item=line.billable_item,
                supply_kind=line.supply_kind,
                vat_override_reason=line.vat_override_reason[:200],
            )
        )
    set_line_taxes(built)
    _check_categories_together(built)
    return built


def _check_precision(*, quantity: Decimal, unit_price: Decimal, position: int) -> None:
    """The one precision rule (``invoicing.calculations``): refused, never rounded away."""
    if quantity_too_precise(quantity):
        raise InvalidInvoiceLine(
            _("Line %(n)s: a quantity has at most three decimals (%(quantity)s).")
            % {"n": position, "quantity": quantity}
        )
    if price_too_precise(unit_price):
        raise InvalidInvoiceLine(
            _("Line %(n)s: a unit price has at most four decimals (%(price)s).")
            % {"n": position, "price": unit_price}
        )


def _allowance_fields(line: LineInput, *, gross: Decimal, position: int, language: str) -> dict:
    """The line's discount, checked: an amount or a percentage of ``gross`` (not both),
    never above it, in cents, with a reason (its code's label when only a code is given)."""
    amount, percent = line.allowance, line.allowance_percent
    code = (line.allowance_reason_code or "").strip()
    reason = " ".join((line.allowance_reason or "").split())
    if amount in (None, "") and percent in (None, ""):
        if reason or code:
            raise InvalidInvoiceLine(
                _("Line %(n)s: a discount reason is given but no discount.") % {"n": position}
            )
        return {"allowance": ZERO}
    problem = None
    if amount not in (None, "") and percent not in (None, ""):
        problem = _("give the discount as an amount or as a percentage, not both")
    elif percent not in (None, ""):
        percent = clean_decimal(percent, field=_("Discount (%)"), error=InvalidInvoiceLine)
        if not (0 < percent <= 100) or precision_error(percent, places=2):
            problem = _("a discount percentage is above 0 and at most 100, with two decimals")
        else:
            amount = percent_allowance(gross=gross, percent=percent)
    else:
        amount = clean_decimal(amount, field=_("Discount"), error=InvalidInvoiceLine)
        percent = None
        if amount == 0 and not (reason or code):
            return {"allowance": ZERO}
    if problem is None and amount is not None:
        problem = allowance_problem(allowance=amount, gross=gross)
    if problem is None and code and code not in AllowanceReason.values:
        problem = _("unknown discount reason code %(code)s") % {"code": code}
    if problem is None and len(reason) > REASON_MAX_LENGTH:
        problem = _("the discount reason is longer than %(max)s characters") % {
            "max": REASON_MAX_LENGTH
        }
    if problem is not None:
        raise InvalidInvoiceLine(
            _("Line %(n)s: %(problem)s.") % {"n": position, "problem": problem}
        )
    return {
        "allowance": amount,
        "allowance_percent": percent,
        "allowance_reason": reason_text(
            reason=reason, code=code or AllowanceReason.DISCOUNT, language=language
        ),
        "allowance_reason_code": code or AllowanceReason.DISCOUNT,
    }


def set_line_taxes(
    lines: Sequence[InvoiceLine], allowance_charges: Sequence[InvoiceAllowanceCharge] = ()
) -> list[InvoiceLine]:
    """Each line's net (stored quantity × stored price, rounded once) and its share of the
    VAT of its rate, computed once for the document from the rate's base, moved by the
    document's ``allowance_charges`` (``invoicing.calculations``); the lines whose amounts
    changed (a draft made under the earlier per-line rule) are returned."""
    changed = []
    nets = [
        line_net(
            quantity=line.quantity, unit_price=line.unit_price.amount, allowance=line.allowance
        )
        for line in lines
    ]
    shares = tax_shares(
        [(line.tax_rate, net) for line, net in zip(lines, nets, strict=True)],
        adjustments=rate_adjustments(
            (row.tax_rate, row.signed_amount) for row in allowance_charges
        ),
    )
    for line, net, tax in zip(lines, nets, shares, strict=True):
        currency = str(line.unit_price.currency)
        if line.net is None or line.net.amount != net or line.tax is None or line.tax.amount != tax:
            line.net, line.tax = Money(net, currency), Money(tax, currency)
            changed.append(line)
    return changed


def set_totals(
    *,
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    allowance_charges: Sequence[InvoiceAllowanceCharge] = (),
) -> None:
    """Net, tax and total of ``invoice``: the sums of its rounded lines, the net moved by
    its document level discounts and charges (BT-109 = BT-106 − BT-107 + BT-108)."""
    invoice.net_total = Money(
        document_net(
            (line.net.amount for line in lines), (row.signed_amount for row in allowance_charges)
        ),
        invoice.currency,
    )
    invoice.tax_total = money_sum((line.tax for line in lines), currency=invoice.currency)
    invoice.total = invoice.net_total + invoice.tax_total


def _vat_fields(line: LineInput, *, position: int, tax_rate: Decimal) -> dict:
    """The line's VAT category, exemption reason and service period, checked."""
    category = line.vat_category or (
        VatCategory.STANDARD if tax_rate > 0 else VatCategory.ZERO_RATED
    )
    reason = (line.vat_exemption_reason or "").strip()
    code = (line.vat_exemption_reason_code or "").strip()
    if category in DEFAULT_REASONS:  # one code fits them all; a text if none is given
        default_code, default_text = DEFAULT_REASONS[category]
        code, reason = code or default_code, reason or default_text
    problem = category_rule_error(category=category, rate=tax_rate, reason=reason)
    if problem is None and code and category not in NEEDS_REASON:
        problem = _("a reason code is only for exempt, reverse-charge or outside-scope lines")
    if problem is None and code and code not in dict(EXEMPTION_REASON_CODES):
        problem = _("unknown exemption reason code %(code)s") % {"code": code}
    if problem is None and len(reason) > EXEMPTION_REASON_MAX_LENGTH:
        problem = _("the exemption reason is longer than %(max)s characters") % {
            "max": EXEMPTION_REASON_MAX_LENGTH
        }
    start, end = line.period_start, line.period_end
    if problem is None and (start is None) != (end is None):
        problem = _("a service period needs both its first and its last day")
    if problem is None and start is not None and end < start:
        problem = _("the service period ends before it starts")
    if problem is not None:
        raise InvalidInvoiceLine(
            _("Line %(n)s: %(problem)s.") % {"n": position, "problem": problem}
        )
    return {
        "vat_category": category,
        "vat_exemption_reason": reason,
        "vat_exemption_reason_code": code,
        "period_start": start,
        "period_end": end,
    }


def _check_categories_together(lines: Sequence[InvoiceLine]) -> None:
    """Rules across lines (EN 16931 states one exemption reason per category, BR-O-11..14
    keep outside-scope lines on their own document)."""
    categories = {line.vat_category for line in lines}
    if VatCategory.OUTSIDE_SCOPE in categories and len(categories) > 1:
        raise InvalidInvoiceLine(_("Lines outside the scope of VAT go on an invoice of their own."))
    for category in categories & set(NEEDS_REASON):
        reasons = {
            (line.vat_exemption_reason, line.vat_exemption_reason_code)
            for line in lines
            if line.vat_category == category
        }
        if len(reasons) > 1:
            raise InvalidInvoiceLine(
                _(
                    "The lines that are “%(category)s” give different exemption reasons; an "
                    "invoice states one reason per category."
                )
                % {"category": VatCategory(category).label}
            )


def _clean_reference(value: str, *, label: str) -> str:
    value = (value or "").strip()
    if len(value) > REFERENCE_MAX_LENGTH:
        raise InvalidInvoiceLine(
            _("The %(label)s is longer than %(max)s characters.")
            % {"label": label, "max": REFERENCE_MAX_LENGTH}
        )
    return value


@transaction.atomic
def invoice_create_draft(
    *,
    customer: Customer,
    lines: Sequence[LineInput],
    currency: str | None = None,
    buyer_reference: str = "",
    order_reference: str = "",
    allowance_charges: Sequence[AllowanceChargeInput] = (),
) -> Invoice:
    """Create a draft invoice with its lines and its document level discounts and charges
    (amounts computed and rounded here); the draft's totals are those of its lines and
    theirs, so lists and the API show what it will be issued at.

    Raises ``InvoiceHasNoLines``, ``InvalidInvoiceLine``, ``InvalidAllowanceCharge`` or
    ``CurrencyMismatch``; on any of them nothing is written.
    """
    currency = currency or customer.location.default_currency
    built, rows = _build(
        lines=lines, allowance_charges=allowance_charges, currency=currency, customer=customer
    )
    invoice = Invoice(
        location=customer.location,
        customer=customer,
        currency=currency,
        buyer_reference=_clean_reference(buyer_reference, label=_("buyer reference")),
        order_reference=_clean_reference(order_reference, label=_("purchase order")),
        amount_paid=Money(0, currency),
        amount_credited=Money(0, currency),
    )
    set_totals(invoice=invoice, lines=built, allowance_charges=rows)
    invoice.full_clean(validate_unique=False, validate_constraints=False)
    invoice.save()
    _save(invoice, lines=built, allowance_charges=rows)
    return invoice


def _build(
    *,
    lines: Sequence[LineInput],
    allowance_charges: Sequence[AllowanceChargeInput],
    currency: str,
    customer: Customer,
) -> tuple[list[InvoiceLine], list[InvoiceAllowanceCharge]]:
    """The lines, then the discounts and charges against them, with the lines' VAT."""
    built = _build_lines(lines=lines, currency=currency, customer=customer)
    rows = build_allowance_charges(
        allowance_charges,
        line_vats=[(line.vat_category, line.tax_rate, line.net.amount) for line in built],
        currency=currency,
        customer=customer,
    )
    if rows:
        set_line_taxes(built, rows)
    return built, rows


def _save(
    invoice: Invoice,
    *,
    lines: Sequence[InvoiceLine],
    allowance_charges: Sequence[InvoiceAllowanceCharge],
) -> None:
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    for row in allowance_charges:
        row.invoice = invoice
    InvoiceAllowanceCharge.objects.bulk_create(allowance_charges)


def stored_allowance_charges(invoice: Invoice) -> list[AllowanceChargeInput]:
    """A draft's discounts and charges as the service takes them: a percentage stays a
    percentage of its breakdown's lines (worked out again on the new lines)."""
    return [
        AllowanceChargeInput(
            kind=row.kind,
            amount=None if row.percent is not None else row.amount,
            percent=row.percent,
            vat_category=row.vat_category,
            tax_rate=row.tax_rate,
            reason=row.reason,
            reason_code=row.reason_code,
        )
        for row in invoice.allowance_charges.all()
    ]


@transaction.atomic
def invoice_draft_set_lines(
    *,
    invoice: Invoice,
    lines: Sequence[LineInput],
    allowance_charges: Sequence[AllowanceChargeInput] | None = None,
) -> Invoice:
    """Replace the lines of a draft, and its discounts and charges (``None``: keep them,
    checked again against the new lines); amounts and the draft's totals recomputed. Raises
    ``InvoiceNotDraft``, and what ``invoice_create_draft`` raises."""
    invoice = invoice_lock(invoice_id=invoice.pk, related=("location", "customer"))
    if invoice.state != Invoice.State.DRAFT:
        raise InvoiceNotDraft()
    if allowance_charges is None:
        allowance_charges = stored_allowance_charges(invoice)
    built, rows = _build(
        lines=lines,
        allowance_charges=allowance_charges,
        currency=invoice.currency,
        customer=invoice.customer,
    )
    invoice.lines.all().delete()
    invoice.allowance_charges.all().delete()
    _save(invoice, lines=built, allowance_charges=rows)
    set_totals(invoice=invoice, lines=built, allowance_charges=rows)
    totals = ("net_total", "tax_total", "total")
    invoice.save(update_fields=[*totals, *(f"{name}_currency" for name in totals)])
    return invoice
