"""Document level allowances and charges of a draft (EN 16931 BG-20/BG-21), cleaned.

Each one states its amount (whole cents), or a percentage of a base (by default the nets of
the lines of its VAT breakdown), turned into cents once when written. Its VAT is that of a
breakdown of the invoice's lines: given as category and rate, derived by the VAT rules
(``coworking.vat_rules``) from a supply kind, or, when the lines have one breakdown only,
that one. A breakdown's base never goes below zero. Every refusal names the row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.allowances import (
    REASON_MAX_LENGTH,
    AllowanceChargeKind,
    AllowanceReason,
    allowance_problem,
    kind_reason_text,
    percent_allowance,
    reason_codes,
)
from coworking.decimals import clean_decimal
from coworking.documents.rendering import document_language
from coworking.errors import CurrencyMismatch
from coworking.models import Customer
from coworking.text import is_single_line
from coworking.vat import VatCategory
from coworking.vat_rules import NoRule, SupplyKind, allowed, describe
from invoicing import line_vat
from invoicing.allowance_charges import InvoiceAllowanceCharge
from invoicing.calculations import ZERO, precision_error, rate_key
from invoicing.errors import InvalidAllowanceCharge


@dataclass(frozen=True)
class AllowanceChargeInput:
    """One document level discount (``kind="allowance"``) or charge (``"charge"``): an
    ``amount`` (``Money`` or a ``Decimal`` in the invoice's currency) or a ``percent`` of
    ``base_amount`` (default: the nets of its breakdown's lines); its VAT as
    ``vat_category`` and ``tax_rate``, or from ``supply_kind``, or the lines' only one; a
    ``reason`` text and/or a ``reason_code`` (UNTDID 5189 for a discount, 7161 for a
    charge)."""

    kind: str = AllowanceChargeKind.ALLOWANCE
    amount: Money | Decimal | None = None
    percent: Decimal | None = None
    base_amount: Money | Decimal | None = None
    vat_category: str = ""
    tax_rate: Decimal | None = None
    supply_kind: str = ""
    reason: str = ""
    reason_code: str = ""


def _refuse(position: int, problem: str) -> InvalidAllowanceCharge:
    return InvalidAllowanceCharge(
        _("Discount or charge %(n)s: %(problem)s.") % {"n": position, "problem": problem}
    )


def _decimal(value, *, currency: str, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, Money):
        if str(value.currency) != currency:
            raise CurrencyMismatch(
                _("A discount or charge is in %(given)s but the invoice is in %(currency)s.")
                % {"given": value.currency, "currency": currency}
            )
        value = value.amount
    return clean_decimal(value, field=field, error=InvalidAllowanceCharge)


def _vat(
    row: AllowanceChargeInput,
    *,
    position: int,
    breakdowns: dict[tuple[str, Decimal], Decimal],
    customer: Customer,
) -> tuple[str, Decimal]:
    """The (category, rate) of the breakdown ``row`` belongs to."""
    if row.supply_kind:
        if row.supply_kind not in SupplyKind.values:
            raise _refuse(position, _("unknown supply kind %(kind)s") % {"kind": row.supply_kind})
        seller, buyer = line_vat.parties(location=customer.location, customer=customer)
        try:
            derived = allowed(kind=row.supply_kind, seller=seller, buyer=buyer)[0]
        except NoRule as error:
            raise _refuse(position, str(error)) from None
        key = (derived.category, rate_key(derived.rate))
        if key not in breakdowns:
            raise _refuse(
                position,
                _("its VAT is %(vat)s, which no line of the invoice has")
                % {"vat": describe(derived)},
            )
        return key
    if not row.vat_category and row.tax_rate in (None, ""):
        if len(breakdowns) == 1:
            return next(iter(breakdowns))
        raise _refuse(
            position,
            _("the lines have several VAT rates: say which one it belongs to"),
        )
    rate = clean_decimal(row.tax_rate, field=_("Tax rate"), error=InvalidAllowanceCharge)
    category = row.vat_category or (VatCategory.STANDARD if rate and rate > 0 else "")
    matches = [
        key
        for key in breakdowns
        if (not category or key[0] == category) and (rate is None or key[1] == rate_key(rate))
    ]
    if len(matches) != 1:
        raise _refuse(
            position,
            _("its VAT (%(vat)s) is not that of the invoice's lines (%(lines)s)")
            % {
                "vat": " ".join(str(part) for part in (category, rate) if part not in ("", None)),
                "lines": ", ".join(f"{c} {r.normalize():f} %" for c, r in breakdowns),
            },
        )
    return matches[0]


def _reason(row: AllowanceChargeInput, *, position: int, language: str) -> tuple[str, str]:
    code = (row.reason_code or "").strip()
    reason = " ".join((row.reason or "").split())
    codes = reason_codes(row.kind)
    if code and code not in codes.values:
        raise _refuse(position, _("unknown reason code %(code)s") % {"code": code})
    if not is_single_line(row.reason or ""):
        raise _refuse(position, _("the reason is printed on one line: remove its line breaks"))
    if len(reason) > REASON_MAX_LENGTH:
        raise _refuse(
            position,
            _("the reason is longer than %(max)s characters") % {"max": REASON_MAX_LENGTH},
        )
    if not (reason or code):
        if row.kind == AllowanceChargeKind.CHARGE:
            raise _refuse(position, _("a charge states its reason"))
        code = AllowanceReason.DISCOUNT
    return kind_reason_text(kind=row.kind, reason=reason, code=code, language=language), code


def _amount(
    row: AllowanceChargeInput, *, position: int, currency: str, base: Decimal
) -> tuple[Decimal, Decimal | None]:
    """The row's amount in cents, and the base of its percentage: as given, or its
    percentage of its base (``base``, its breakdown's lines, unless the row gives one),
    rounded once."""
    amount = _decimal(row.amount, currency=currency, field=_("Amount"))
    percent = _decimal(row.percent, currency=currency, field=_("Percentage"))
    if (amount is None) == (percent is None):
        raise _refuse(position, _("give an amount or a percentage, one of the two"))
    of = None
    if percent is not None:
        if not (0 < percent <= 100) or precision_error(percent, places=2):
            raise _refuse(position, _("a percentage is above 0 and at most 100, with two decimals"))
        given = _decimal(row.base_amount, currency=currency, field=_("Base amount"))
        of = base if given is None else given
        if of <= 0:
            raise _refuse(position, _("the base of a percentage is above zero"))
        amount = percent_allowance(gross=of, percent=percent)
    if amount is None or amount <= 0:
        raise _refuse(position, _("the amount is above zero"))
    return amount, of


def build_allowance_charges(
    rows: Sequence[AllowanceChargeInput],
    *,
    line_vats: Sequence[tuple[str, Decimal, Decimal]],
    currency: str,
    customer: Customer,
) -> list[InvoiceAllowanceCharge]:
    """The rows, checked and priced, unsaved; ``line_vats`` are the lines' ``(category,
    rate, net)``. Raises ``InvalidAllowanceCharge`` (naming the row) or
    ``CurrencyMismatch``."""
    breakdowns: dict[tuple[str, Decimal], Decimal] = {}
    for category, rate, net in line_vats:
        key = (category, rate_key(rate))
        breakdowns[key] = breakdowns.get(key, ZERO) + net
    bases = dict(breakdowns)
    built = []
    for position, row in enumerate(rows, start=1):
        if row.kind not in AllowanceChargeKind.values:
            raise _refuse(position, _("unknown kind %(kind)s") % {"kind": row.kind})
        category, rate = _vat(row, position=position, breakdowns=breakdowns, customer=customer)
        amount, base = _amount(
            row, position=position, currency=currency, base=breakdowns[(category, rate)]
        )
        problem = allowance_problem(
            allowance=amount,
            gross=amount if row.kind == AllowanceChargeKind.CHARGE else bases[(category, rate)],
        )
        if problem:
            raise _refuse(position, problem)
        signed = amount if row.kind == AllowanceChargeKind.CHARGE else -amount
        bases[(category, rate)] += signed
        reason, code = _reason(row, position=position, language=document_language(customer))
        built.append(
            InvoiceAllowanceCharge(
                position=position,
                kind=row.kind,
                amount=Money(amount, currency),
                base_amount=Money(base, currency) if base is not None else None,
                percent=_decimal(row.percent, currency=currency, field=_("Percentage")),
                vat_category=category,
                tax_rate=rate,
                reason=reason,
                reason_code=code,
            )
        )
    return built
