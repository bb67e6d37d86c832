"""The books' reads: the journal lines of a period (streamed), the VAT summary. Reports all:
they read from the replica when one is configured (``coworking.db.reporting_db``)."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Max

from books.models import JournalEntry, JournalLine, Purpose
from coworking.db import reporting_db
from coworking.models import Location
from coworking.money import MoneySum
from coworking.vat import VatCategory

ZERO = Decimal("0.00")

LINE_FIELDS = (
    "entry_id",
    "entry__journal",
    "entry__fiscal_year",
    "entry__number",
    "entry__date",
    "entry__document_number",
    "entry__document_date",
    "entry__corrects",
    "entry__label",
    "entry__posted_at",
    "entry__currency",
    "position",
    "account_code",
    "account_label",
    "purpose",
    "customer_id",
    "customer__billing_name",
    "debit",
    "credit",
    "currency",
    "amount_currency",
    "lettering",
    "vat_category",
    "tax_rate",
)


def journal_lines(
    *, location: Location, start: datetime.date, end: datetime.date
) -> Iterator[dict]:
    """The lines of the location's entries dated ``start``..``end``, by journal, year,
    number and position, read in chunks (a server-side cursor on PostgreSQL) so a year of
    a million lines stays in bounded memory."""
    return (
        JournalLine.objects.using(reporting_db())
        .filter(entry__location=location, entry__date__gte=start, entry__date__lte=end)
        .order_by("entry__journal", "entry__fiscal_year", "entry__number", "position")
        .values(*LINE_FIELDS)
        .iterator(chunk_size=5000)
    )


def journal_totals(*, location: Location, start: datetime.date, end: datetime.date) -> dict:
    """Debit and credit totals and the entry count of the period, and when its latest entry
    was posted (what an export's header states)."""
    db = reporting_db()
    lines = (
        JournalLine.objects.using(db)
        .filter(entry__location=location, entry__date__gte=start, entry__date__lte=end)
        .aggregate(debit=MoneySum("debit"), credit=MoneySum("credit"))
    )
    entries = JournalEntry.objects.using(db).filter(
        location=location, date__gte=start, date__lte=end
    )
    return {
        "debit": lines["debit"] or ZERO,
        "credit": lines["credit"] or ZERO,
        "entries": entries.count(),
        "last_posted_at": entries.aggregate(last=Max("posted_at"))["last"],
    }


@dataclass(frozen=True)
class VatRow:
    category: str
    rate: Decimal
    base: Decimal
    vat: Decimal

    @property
    def category_label(self) -> str:
        return str(VatCategory(self.category).label)

    @property
    def apart(self) -> bool:
        """Reverse charge and outside scope: reported apart from the taxed bases."""
        return self.category in (VatCategory.REVERSE_CHARGE, VatCategory.OUTSIDE_SCOPE)


def vat_summary(*, location: Location, start: datetime.date, end: datetime.date) -> list[VatRow]:
    """Taxable base and output VAT per category and rate of the documents dated in the
    period, credit notes netted in, in the accounting currency, from the journal: the
    figures a VAT return is filled from. Taxed categories first, then reverse charge and
    outside scope."""
    sums = (
        JournalLine.objects.using(reporting_db())
        .filter(
            entry__location=location,
            entry__date__gte=start,
            entry__date__lte=end,
            purpose__in=(Purpose.REVENUE, Purpose.OUTPUT_VAT),
        )
        .values("purpose", "vat_category", "tax_rate")
        .annotate(debit=MoneySum("debit"), credit=MoneySum("credit"))
    )
    rows: dict[tuple[str, Decimal | None], list[Decimal]] = {}
    for row in sums:
        key = (row["vat_category"], row["tax_rate"])
        amounts = rows.setdefault(key, [ZERO, ZERO])
        amounts[0 if row["purpose"] == Purpose.REVENUE else 1] += row["credit"] - row["debit"]
    result = [VatRow(category=c, rate=r or ZERO, base=b, vat=v) for (c, r), (b, v) in rows.items()]
    return sorted(result, key=lambda row: (row.apart, row.category, row.rate))
