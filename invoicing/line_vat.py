"""The VAT of invoice lines, decided by ``coworking.vat_rules`` when a line is written and
checked again when the invoice is issued (the customer may have changed in between).

A line with a billable item (or a supply kind) takes the category, rate and exemption reason
the rules derive. Staff may type another one only with a reason (``vat_override_reason``)
and only to what the rules allow. A line typed by hand keeps its category but must make
sense for the parties (``vat_rules.typed_line_error``). Every refusal names the line.
"""

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from coworking.billable_items import BillableItem
from coworking.models import Customer, Location
from coworking.vat import DEFAULT_REASONS, VatCategory
from coworking.vat_rules import (
    Buyer,
    NoRule,
    Seller,
    SupplyKind,
    Treatment,
    allowed,
    describe,
    override_error,
    typed_line_error,
)
from invoicing.errors import VatNotAllowed

if TYPE_CHECKING:
    from invoicing.models import InvoiceLine
    from invoicing.services import LineInput


def parties(*, location: Location, customer: Customer) -> tuple[Seller, Buyer]:
    seller = Seller(country=str(location.country), opted_to_tax=location.opted_to_tax)
    buyer = Buyer.of(
        country=str(customer.country),
        tax_id=customer.tax_id,
        company=customer.kind == Customer.Kind.COMPANY,
    )
    return seller, buyer


def _refuse(position: int, problem: str) -> VatNotAllowed:
    return VatNotAllowed(_("Line %(n)s: %(problem)s.") % {"n": position, "problem": problem})


def _typed(category: str, rate: Decimal, reason: str, code: str) -> Treatment:
    """What staff typed, with the standard reason of AE and O filled in as the services do."""
    default = DEFAULT_REASONS.get(VatCategory(category)) if category in VatCategory.values else None
    if default and not code:
        code = default[0]
    return Treatment(category, rate, code, reason)


def resolve(
    line: "LineInput", *, position: int, location: Location, customer: Customer
) -> "LineInput":
    """``line`` with its VAT (and, from its billable item, its description and price where
    not given) decided; raises ``VatNotAllowed`` naming the line."""
    item = line.billable_item
    kind = line.supply_kind or ""
    if item is not None:
        if item.location_id != location.pk:
            problem = _("“%(item)s” is not an item of %(location)s")
            raise _refuse(position, problem % {"item": item.name, "location": location})
        if kind and kind != item.supply_kind:
            raise _refuse(position, _("its supply kind is that of its billable item"))
        kind = item.supply_kind
        line = dataclasses.replace(
            line,
            description=line.description or item.name,
            unit_price=line.unit_price if line.unit_price is not None else item.unit_price,
        )
    seller, buyer = parties(location=location, customer=customer)
    override = (line.vat_override_reason or "").strip()
    if not kind:
        if override:
            raise _refuse(position, _("only a line with a supply kind has a VAT override"))
        if line.tax_rate is None:
            raise _refuse(position, _("pick a billable item or give the tax rate"))
        if line.vat_category:
            typed = _typed(
                line.vat_category,
                Decimal(str(line.tax_rate)),
                (line.vat_exemption_reason or "").strip(),
                (line.vat_exemption_reason_code or "").strip(),
            )
            if problem := typed_line_error(line=typed, seller=seller, buyer=buyer):
                raise _refuse(position, problem)
        return line
    item_rate = item.tax_rate if item is not None else None
    try:
        options = allowed(kind=kind, seller=seller, buyer=buyer, item_rate=item_rate)
    except NoRule as error:
        raise _refuse(position, str(error)) from None
    derived = options[0]
    category = line.vat_category or derived.category
    code = (line.vat_exemption_reason_code or "").strip()
    rate: Decimal | int | None = line.tax_rate
    if rate is None:  # the rate of the category chosen: the rules', else 0 for E, AE, O, Z
        same = next((option for option in options if option.category == category), None)
        rate = same.rate if same else (derived.rate if category == VatCategory.STANDARD else 0)
    typed = _typed(
        category,
        Decimal(str(rate)),
        (line.vat_exemption_reason or "").strip(),
        code or (derived.reason_code if category == derived.category else ""),
    )
    if typed.same_as(derived):  # what the rules give: nothing is overridden
        return _with(line, kind, derived, reason=typed.reason or derived.reason)
    if not override:
        raise _refuse(
            position,
            _(
                "%(kind)s to this customer is %(derived)s; to bill it as %(typed)s, give the "
                "reason for overriding the rules"
            )
            % {
                "kind": SupplyKind(kind).label,
                "derived": describe(derived),
                "typed": describe(typed),
            },
        )
    problem = override_error(line=typed, kind=kind, seller=seller, buyer=buyer, item_rate=item_rate)
    if problem:
        raise _refuse(position, problem)
    same = next((option for option in options if typed.same_as(option)), None)
    reason = typed.reason or (same.reason if same else "")
    return _with(line, kind, typed, reason=reason, override=override)


def _with(
    line: "LineInput", kind: str, treatment: Treatment, *, reason: str, override: str = ""
) -> "LineInput":
    return dataclasses.replace(
        line,
        supply_kind=kind,
        tax_rate=treatment.rate,
        vat_category=treatment.category,
        vat_exemption_reason=reason if treatment.category != VatCategory.STANDARD else "",
        vat_exemption_reason_code=treatment.reason_code,
        vat_override_reason=override,
    )


def check_at_issue(
    *, lines: Sequence["InvoiceLine"], location: Location, customer: Customer
) -> None:
    """The lines' VAT still follows from the rules for the customer as it is now."""
    seller, buyer = parties(location=location, customer=customer)
    item_ids = {line.billable_item_id for line in lines if line.billable_item_id}
    rates: dict[int | None, Decimal | None] = dict(
        BillableItem.objects.filter(pk__in=item_ids).values_list("pk", "tax_rate")
    )
    for line in lines:
        stored = Treatment(
            line.vat_category, line.tax_rate, line.vat_exemption_reason_code,
            line.vat_exemption_reason,
        )  # fmt: skip
        if not line.supply_kind:
            problem = typed_line_error(line=stored, seller=seller, buyer=buyer)
        elif line.vat_override_reason:
            problem = override_error(
                line=stored,
                kind=line.supply_kind,
                seller=seller,
                buyer=buyer,
                item_rate=rates.get(line.billable_item_id),
            )
        else:
            try:
                derived = allowed(
                    kind=line.supply_kind,
                    seller=seller,
                    buyer=buyer,
                    item_rate=rates.get(line.billable_item_id),
                )[0]
            except NoRule as error:
                raise _refuse(line.position, str(error)) from None
            problem = None
            if not stored.same_as(derived):
                problem = _(
                    "the rules now give %(derived)s for it (the customer or the item changed "
                    "since it was written): save the invoice's lines again"
                ) % {"derived": describe(derived)}
        if problem:
            raise _refuse(line.position, problem)
