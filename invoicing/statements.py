"""The customer statement: a customer's account over a period, printable (PDF).

Per currency: the opening balance (every entry dated before the period), each ledger entry
of the period in document-date order with the running balance after it, the closing
balance, and the account credit the customer may still spend. It is read from the ledger
when asked and never stored: unlike an invoice it is not a legal document, and a
statement printed later for the same period shows the same entries (the ledger is
append-only, and entries are dated by their documents).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from djmoney.money import Money

from coworking.db import reporting_db
from coworking.documents.rendering import (
    Formatter,
    document_language,
    merged_pdf,
    page_context,
    render_pdf,
)
from coworking.einvoice.parties import buyer, seller
from coworking.errors import InvalidInput
from coworking.models import Customer, LedgerEntry
from coworking.money import MoneySum
from coworking.registry import ledger_source
from coworking.selectors import customer_ledger
from invoicing.selectors import available_credit, credit_applied_by_invoice

# A statement covers at most this many days (a few years of a long-standing customer).
MAX_STATEMENT_DAYS = 3 * 366


@dataclass(frozen=True)
class StatementEntry:
    entry: LedgerEntry
    date: datetime.date
    balance: Money
    credit_applied: Money | None = None  # on an invoice's entry: account credit that paid it


@dataclass(frozen=True)
class CurrencyStatement:
    currency: str
    opening: Money
    entries: list[StatementEntry]
    closing: Money
    available_credit: Money


def statement_period_error(*, start: datetime.date | None, end: datetime.date | None) -> str:
    """Why ``start``–``end`` is not a period a statement can cover ("" when it is)."""
    if start is None or end is None:
        return _("Give the first and the last day of the period.")
    if start > end:
        return _("The period starts after it ends.")
    if (end - start).days >= MAX_STATEMENT_DAYS:
        return _("A statement covers at most %(days)d days.") % {"days": MAX_STATEMENT_DAYS}
    return ""


def customer_statement(
    *, customer: Customer, start: datetime.date, end: datetime.date
) -> list[CurrencyStatement]:
    """The customer's account from ``start`` to ``end`` (both included), per currency in
    ISO order: a currency appears when the customer has any entry in it up to ``end``. An
    invoice's entry carries the account credit applied to it (no entry of its own: it moves
    credit onto the invoice, not the balance).
    Raises ``InvalidInput`` for a period that is not one (``statement_period_error``).
    A report: read from the replica when one is configured (``coworking.db.reporting_db``),
    every figure from the same database."""
    if error := statement_period_error(start=start, end=end):
        raise InvalidInput(error)
    db = reporting_db()
    ledger = customer_ledger(customer=customer).using(db)
    openings = dict(
        ledger.filter(document_date__lt=start)
        .order_by()
        .values_list("amount_currency")
        .annotate(total=MoneySum("amount"))
    )
    in_period = ledger.filter(document_date__gte=start, document_date__lte=end).order_by(
        "document_date", "created_at", "id"
    )
    entries: dict[str, list[LedgerEntry]] = {}
    for entry in in_period:
        entries.setdefault(entry.amount_currency, []).append(entry)
    applied = credit_applied_by_invoice(
        invoice_ids=[
            e.invoice.pk for rows in entries.values() for e in rows if e.kind == "invoice"
        ],
        using=db,
    )

    statements = []
    for currency in sorted(set(openings) | set(entries)):
        balance = openings.get(currency) or Decimal("0.00")
        opening, rows = Money(balance, currency), []
        for entry in entries.get(currency, []):
            balance += entry.amount.amount
            rows.append(
                StatementEntry(
                    entry=entry,
                    date=entry.document_date,
                    balance=Money(balance, currency),
                    credit_applied=applied.get(entry.invoice.pk)
                    if entry.kind == "invoice"
                    else None,
                )
            )
        statements.append(
            CurrencyStatement(
                currency=currency,
                opening=opening,
                entries=rows,
                closing=Money(balance, currency),
                available_credit=available_credit(customer=customer, currency=currency, using=db),
            )
        )
    return statements


def entry_document(entry: LedgerEntry) -> str:
    """The number of the document an entry comes from, as the customer knows it (what the
    app that posted it shows, ``coworking.registry``)."""
    source = ledger_source(entry.kind)
    return source.number(entry) if source is not None else entry.document_number


def statement_is_long(*, customer: Customer, start: datetime.date, end: datetime.date) -> bool:
    """Whether the statement has more entries than one part (``STATEMENT_PART_ROWS``): too
    long to render within a request, it is prepared in the background
    (``invoicing.services.statements``)."""
    entries = customer_ledger(customer=customer).using(reporting_db())
    in_period = entries.filter(document_date__gte=start, document_date__lte=end).order_by()
    return in_period[: STATEMENT_PART_ROWS + 1].count() > STATEMENT_PART_ROWS


def customer_statement_pdf_bytes(
    *,
    customer: Customer,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
    language: str | None = None,
) -> bytes:
    """The statement from ``start`` to ``end`` as PDF bytes, in ``language`` (by default the
    customer's document language), dated ``today`` (the available credit is today's).
    Nothing is stored. Raises ``InvalidInput`` for a period that is not one and
    ``PdfRenderError``.

    WeasyPrint holds a document's whole layout in memory while it renders, and its time grows
    faster than its rows: a statement longer than ``STATEMENT_PART_ROWS`` entries is laid out
    in parts of that many, each its own document (a section continued from the part before
    opens on the balance brought forward), merged page by page and numbered across them."""
    statements = customer_statement(customer=customer, start=start, end=end)
    language = language or document_language(customer)
    with translation.override(language):
        fmt = Formatter(language)
        title = _("Statement of account")
        period = _("%(start)s to %(end)s") % {"start": fmt.date(start), "end": fmt.date(end)}
        location_party, customer_party = seller(customer.location), buyer(customer)
        context = {
            **page_context(
                fmt=fmt,
                title=title,
                number=period,
                date=today,
                seller=location_party,
                buyer=customer_party,
                buyer_label=_("Customer"),
                footer=f"{location_party.name} · {title} · {customer.billing_name}",
            ),
            "period": period,
        }
        sections = [_statement_section(statement, fmt) for statement in statements]
        parts = statement_parts(sections, rows=STATEMENT_PART_ROWS)
        identifier = f"statement/{customer.pk}/{start.isoformat()}/{end.isoformat()}"
        if len(parts) == 1:
            html = render_to_string(
                "documents/statement.html",
                {**context, "currencies": parts[0], "first": True, "last": True},
            )
            return render_pdf(html=html, identifier=identifier)
        counter = context["page_counter_css"]
        rendered = [
            render_pdf(
                html=render_to_string(
                    "documents/statement.html",
                    {
                        **context,
                        "page_counter_css": '""',  # laid over the merged pages below
                        "currencies": part,
                        "first": number == 0,
                        "last": number == len(parts) - 1,
                    },
                ),
                identifier=f"{identifier}/{number}",
            )
            for number, part in enumerate(parts)
        ]
        return merged_pdf(rendered, numbered=lambda pages: _page_numbers(context, counter, pages))


# Entries per WeasyPrint document of a long statement (see customer_statement_pdf_bytes).
STATEMENT_PART_ROWS = 250


def _statement_section(statement: CurrencyStatement, fmt: Formatter) -> dict:
    return {
        "currency": statement.currency,
        "opening": fmt.money(statement.opening),
        "closing": fmt.money(statement.closing),
        "available_credit": fmt.money(statement.available_credit),
        "entries": [
            {
                "date": fmt.date(row.date),
                "kind": row.entry.get_kind_display(),
                "document": entry_document(row.entry),
                "credit_applied": fmt.money(row.credit_applied) if row.credit_applied else "",
                "amount": fmt.money(row.entry.amount),
                "balance": fmt.money(row.balance),
            }
            for row in statement.entries
        ],
    }


def statement_parts(sections: list[dict], *, rows: int) -> list[list[dict]]:
    """The currency sections cut into parts of at most ``rows`` entries, in order. A
    section's piece ``starts`` (its opening balance shown) or carries the balance
    ``brought_forward`` from the piece before; the piece that ``ends`` it shows the closing
    rows. No section at all: one empty part."""
    parts: list[list[dict]] = [[]]
    room = rows
    for section in sections:
        entries, offset = section["entries"], 0
        while True:
            if room == 0:
                parts.append([])
                room = rows
            piece = entries[offset : offset + room]
            parts[-1].append(
                {
                    **section,
                    "entries": piece,
                    "starts": offset == 0,
                    "ends": offset + len(piece) == len(entries),
                    "brought_forward": entries[offset - 1]["balance"] if offset else "",
                }
            )
            offset += len(piece)
            room -= max(1, len(piece))  # an empty section still takes a line
            if offset >= len(entries):
                break
    return parts


def _page_numbers(context: dict, counter: str, pages: int) -> bytes:
    """``pages`` blank pages carrying only the page counter, to lay over merged parts."""
    html = render_to_string(
        "documents/page_numbers.html",
        {**context, "page_counter_css": counter, "pages": range(pages)},
    )
    return render_pdf(html=html, identifier="page-numbers")
