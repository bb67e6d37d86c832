"""Writing one journal entry: accounts, accounting-currency amounts, balance, number.

A leg is signed (positive = debit) in the document's currency. Its amount in the
accounting currency (the location's VAT currency) is, in order of precedence:

- the same amount when the currencies are the same;
- for a customer leg that reduces an open balance (a payment against an invoice, credit
  spent or refunded): that balance's own rate, and exactly what is left of the balance when
  the leg empties it, so an item settled in full leaves nothing in the accounting currency
  (the rule the documents follow for their last credited part);
- otherwise the document's exchange rate, rounded by the one rule;
- the one leg marked ``balances`` takes what balances the entry; any other difference (the
  rounding of a conversion, an exchange difference) goes to the rounding account.

Entries are numbered from a counter per location, journal and fiscal year (the calendar
year of the entry's date), taken here, late in the event's transaction: the counters of one
event are always taken in the order sales, bank, miscellaneous, so two events never wait for
each other in a cycle. ``prepare`` does the reading and the arithmetic, ``write`` takes the
number and writes (three statements), so a caller can do the first before it takes a
document's number and hold the counters for the second alone.
"""

import datetime
from dataclasses import dataclass, replace
from decimal import Decimal

from django.utils.translation import gettext as _

from books.charts import default_chart
from books.errors import PeriodClosed
from books.models import (
    CUSTOMER_PURPOSES,
    Account,
    ClosedPeriod,
    JournalEntry,
    JournalLine,
    Purpose,
)
from coworking.models import ExchangeRate, Location
from coworking.money import MoneySum, round_amount
from coworking.numbering import next_number

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Leg:
    purpose: str
    amount: Decimal
    currency: str
    keys: tuple[str, ...] = ()
    customer_id: int | None = None
    lettering: str = ""
    vat_category: str = ""
    tax_rate: Decimal | None = None
    # Set when the amount in the accounting currency is known (VAT as the document states it).
    accounting: Decimal | None = None
    balances: bool = False


@dataclass(frozen=True)
class EntryHead:
    location: Location
    journal: str
    date: datetime.date
    source: str
    label: str
    document_number: str = ""
    document_date: datetime.date | None = None
    corrects: str = ""
    customer_id: int | None = None


def accounting_currency(location: Location) -> str:
    return location.vat_currency or location.default_currency


def series_name(*, journal: str, year: int) -> str:
    """The document type under which ``coworking.numbering`` keeps an entry counter."""
    return f"journal-{journal}-{year}"


def chart(location: Location) -> dict[tuple[str, str], Account]:
    """The location's accounts by (purpose, key); the default chart is written the first
    time a location posts."""
    # Unordered: the model's ordering joins the location to sort by name, and a dict needs none.
    of_location = Account.objects.filter(location=location).order_by()
    accounts = {(a.purpose, a.key): a for a in of_location}
    if not accounts:
        Account.objects.bulk_create(
            [
                Account(location=location, purpose=purpose, key=key, code=code, label=label)
                for purpose, key, code, label in default_chart(str(location.country))
            ],
            ignore_conflicts=True,
        )
        accounts = {(a.purpose, a.key): a for a in of_location.all()}
    return accounts


def _account(accounts: dict, purpose: str, keys: tuple[str, ...]) -> Account:
    for key in (*keys, ""):
        if (purpose, key) in accounts:
            return accounts[(purpose, key)]
    # A chart edited down to nothing for a purpose: restore its default account.
    defaults = {(p, k): (c, label) for p, k, c, label in default_chart("")}
    code, label = defaults[(purpose, "")]
    account, _created = Account.objects.get_or_create(
        location_id=next(iter(accounts.values())).location_id,
        purpose=purpose,
        key="",
        defaults={"code": code, "label": label},
    )
    accounts[(purpose, "")] = account
    return account


def closed_period_of(*, location: Location, date: datetime.date) -> ClosedPeriod | None:
    # Ordered by its own column: the model's ordering joins the location to sort by name,
    # on every entry posted.
    return (
        ClosedPeriod.objects.filter(location=location, start__lte=date, end__gte=date)
        .order_by("start")
        .first()
    )


def check_open(*, location: Location, date: datetime.date) -> None:
    """Raise ``PeriodClosed``, naming the period, when ``date`` falls in a closed one."""
    period = closed_period_of(location=location, date=date)
    if period is not None:
        raise PeriodClosed(
            _(
                "The books of %(location)s are closed from %(start)s to %(end)s: "
                "nothing dated %(date)s can be recorded."
            )
            % {
                "location": location,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "date": date.isoformat(),
            }
        )


def rate_on(*, currency: str, to: str, date: datetime.date) -> Decimal:
    """The latest recorded rate from ``currency`` to ``to`` on or before ``date`` (1 when
    none is recorded: only for documents older than exchange rates)."""
    rate = (
        ExchangeRate.objects.filter(currency=currency, vat_currency=to, date__lte=date)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    return rate if rate is not None else Decimal(1)


def _open_balance(*, location: Location, leg: Leg) -> tuple[Decimal, Decimal]:
    """The leg's open item so far: (original amount, accounting amount)."""
    lines = JournalLine.objects.filter(
        entry__location=location,
        purpose=leg.purpose,
        currency=leg.currency,
        lettering=leg.lettering,
    )
    if leg.customer_id is not None:
        lines = lines.filter(customer_id=leg.customer_id)
    sums = lines.aggregate(
        original=MoneySum("amount_currency"), debit=MoneySum("debit"), credit=MoneySum("credit")
    )
    return (
        sums["original"] or ZERO,
        (sums["debit"] or ZERO) - (sums["credit"] or ZERO),
    )


def _in_accounting(*, leg: Leg, location: Location, to: str, rate: Decimal | None) -> Decimal:
    if leg.accounting is not None:
        return leg.accounting
    if leg.currency == to:
        return leg.amount
    if leg.purpose in CUSTOMER_PURPOSES:
        original, accounting = _open_balance(location=location, leg=leg)
        if original and (original > 0) != (leg.amount > 0):
            if original + leg.amount == 0:
                return -accounting
            return round_amount(leg.amount * accounting / original)
    return round_amount(leg.amount * (rate if rate is not None else Decimal(1)))


@dataclass
class Prepared:
    """An entry worked out in full but not written: its number is taken by :func:`write`."""

    entry: JournalEntry
    lines: list[JournalLine]


def prepare(*, head: EntryHead, legs: list[Leg], rate: Decimal | None = None) -> Prepared | None:
    """The entry of ``head`` with ``legs``, converted, balanced and on its accounts, not yet
    numbered nor written (``None`` when every leg is zero): all the reading an entry needs,
    done before its counter is taken.

    ``rate`` converts the document's currency to the accounting currency. Raises
    ``PeriodClosed`` when the entry's date is in a closed period.
    """
    legs = [leg for leg in legs if leg.amount or leg.accounting]
    if not legs:
        return None
    location = head.location
    check_open(location=location, date=head.date)
    to = accounting_currency(location)
    converted = [
        leg
        if leg.balances
        else replace(leg, accounting=_in_accounting(leg=leg, location=location, to=to, rate=rate))
        for leg in legs
    ]
    rest = -sum((leg.accounting or ZERO for leg in converted if not leg.balances), ZERO)
    for index, leg in enumerate(converted):
        if leg.balances:
            converted[index] = replace(leg, accounting=rest)
            rest = ZERO
    if rest:
        converted.append(
            Leg(purpose=Purpose.ROUNDING, amount=ZERO, currency=legs[0].currency, accounting=rest)
        )
    accounts = chart(location)
    entry = JournalEntry(
        location=location,
        journal=head.journal,
        fiscal_year=head.date.year,
        date=head.date,
        currency=to,
        document_number=head.document_number,
        document_date=head.document_date,
        corrects=head.corrects,
        customer_id=head.customer_id,
        label=head.label[:200],
        source=head.source,
    )
    lines = []
    for position, leg in enumerate(converted, start=1):
        account = _account(accounts, leg.purpose, leg.keys)
        amount = leg.accounting or ZERO
        lines.append(
            JournalLine(
                position=position,
                account=account,
                account_code=account.code,
                account_label=account.label,
                purpose=leg.purpose,
                customer_id=leg.customer_id if leg.purpose in CUSTOMER_PURPOSES else None,
                debit=max(amount, ZERO),
                credit=max(-amount, ZERO),
                currency=leg.currency,
                amount_currency=leg.amount,
                lettering=leg.lettering,
                vat_category=leg.vat_category,
                tax_rate=leg.tax_rate,
            )
        )
    return Prepared(entry=entry, lines=lines)


def write(prepared: Prepared) -> JournalEntry:
    """Number the prepared entry from its journal's counter and write it with its lines:
    three statements, the counter's row locked from the first to the commit."""
    entry = prepared.entry
    entry.number = next_number(
        location_id=entry.location_id,
        document_type=series_name(journal=entry.journal, year=entry.fiscal_year),
    )
    entry.save(force_insert=True)
    for line in prepared.lines:
        line.entry = entry
    JournalLine.objects.bulk_create(prepared.lines)
    return entry


def post(*, head: EntryHead, legs: list[Leg], rate: Decimal | None = None) -> JournalEntry | None:
    """Write the entry of ``head`` with ``legs`` (nothing when every leg is zero); raises
    ``PeriodClosed`` as :func:`prepare` does, and the caller's transaction then writes
    nothing."""
    prepared = prepare(head=head, legs=legs, rate=rate)
    return write(prepared) if prepared is not None else None
