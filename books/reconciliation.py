"""The books' checks, run by ``manage.py reconcile`` beside the documents' own
(``BooksConfig.ready()`` adds them to ``credits.reconciliation.CHECKS``).

Each returns a list of human-readable breaches (empty when it holds); the sums are grouped
in SQL except the VAT of documents in another currency than their location's, whose
converted VAT is shared out by rate in Python, as it was posted.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Max, Q

from books.models import CUSTOMER_PURPOSES, JournalEntry, JournalLine, Purpose
from books.posting import accounting_currency, series_name
from books.services import split_taxes, vat_rate
from coworking.iteration import Ids, in_chunks, walked
from coworking.models import Customer, LedgerEntry, Location
from coworking.money import MoneySum
from coworking.numbering import last_number
from credits.ledger_reconciliation import CUSTOMER_WINDOW
from credits.models import CreditNote, CreditNoteLine, Refund
from invoicing.models import Invoice, InvoiceLine, Payment

ZERO = Decimal("0.00")


def check_entries_balance(*, journal_entries: Ids = Ids.ALL) -> list[str]:
    """Every entry's debits equal its credits; numbers of each journal and year are 1..N."""
    breaches = [
        f"Entry {row['entry__journal']} {row['entry__fiscal_year']}-{row['entry__number']} "
        f"of location {row['entry__location_id']}: debit {row['d']} ≠ credit {row['c']}."
        for row in JournalLine.objects.filter(journal_entries.q("entry_id"))
        .values(
            "entry_id",
            "entry__journal",
            "entry__fiscal_year",
            "entry__number",
            "entry__location_id",
        )
        .annotate(d=MoneySum("debit"), c=MoneySum("credit"))
        .exclude(d=F("c"))
    ]
    empty = JournalEntry.objects.filter(journal_entries.q("pk"), lines__isnull=True).count()
    if empty:
        breaches.append(f"{empty} journal entries have no lines.")
    for row in JournalEntry.objects.values("location_id", "journal", "fiscal_year").annotate(
        n=Count("id"), high=Max("number")
    ):
        counter = last_number(
            location_id=row["location_id"],
            document_type=series_name(journal=row["journal"], year=row["fiscal_year"]),
        )
        if not row["n"] == row["high"] == counter:
            breaches.append(
                f"Journal {row['journal']} {row['fiscal_year']} of location "
                f"{row['location_id']}: {row['n']} entries, highest number {row['high']}, "
                f"counter {counter}: not 1..N without gaps."
            )
    return breaches


def check_customer_balances(*, customers: Ids = Ids.ALL) -> list[str]:
    """Each customer's receivable, credit held and refunds payable add up to their ledger
    balance, currency by currency (in the documents' currency). Read a window of customers
    at a time."""
    breaches = []
    for window in walked(customers, model=Customer, size=CUSTOMER_WINDOW):
        breaches += _customer_accounts(customers=window)
    return breaches


def _customer_accounts(*, customers: Ids) -> list[str]:
    journal = {
        (row["customer_id"], row["currency"]): row["total"]
        for row in JournalLine.objects.filter(
            customers.q("customer_id"), purpose__in=CUSTOMER_PURPOSES
        )
        .values("customer_id", "currency")
        .annotate(total=MoneySum("amount_currency"))
    }
    ledger = {
        (row["customer_id"], row["amount_currency"]): row["total"]
        for row in LedgerEntry.objects.filter(customers.q("customer_id"))
        .values("customer_id", "amount_currency")
        .annotate(total=MoneySum("amount"))
    }
    breaches = []
    for key in sorted(set(journal) | set(ledger)):
        books, owed = journal.get(key, ZERO), ledger.get(key, ZERO)
        if books != owed:
            breaches.append(
                f"Customer {key[0]} in {key[1]}: the books hold {books}, the ledger {owed}."
            )
    return breaches


def document_vat(*, invoices: Ids = Ids.ALL) -> dict[tuple[int, str, Decimal | None], Decimal]:
    """Output VAT the documents of ``invoices`` state (the invoices and their credit
    notes), per location, category and rate, in the accounting currency (credit notes
    netted in). What is in its location's accounting currency is summed in SQL; a converted
    document's VAT is shared out by rate as it was posted (``split_taxes``), from its own
    columns and its lines' sums, a chunk of documents at a time. No document or line is
    loaded as a model: memory holds a chunk's sums and the totals, whatever the table."""
    totals: dict[tuple[int, str, Decimal | None], Decimal] = defaultdict(lambda: ZERO)
    locations = {location.pk: location for location in Location.objects.all()}
    kinds = (
        (
            "invoice",
            Invoice.objects.filter(invoices.q("pk")).exclude(state=Invoice.State.DRAFT),
            InvoiceLine.objects.filter(invoices.q("invoice_id")).exclude(
                invoice__state=Invoice.State.DRAFT
            ),
        ),
        (
            "credit_note",
            CreditNote.objects.filter(invoices.q("invoice_id")),
            CreditNoteLine.objects.filter(invoices.q("credit_note__invoice_id")),
        ),
    )
    for kind, documents, lines in kinds:
        for location_id, currency, category, tax_rate, tax in (
            lines.values_list(
                f"{kind}__location_id", f"{kind}__currency", "vat_category", "tax_rate"
            )
            .annotate(MoneySum("tax"))
            .order_by()
        ):
            if tax and currency == accounting_currency(locations[location_id]):
                totals[(location_id, category, tax_rate)] += tax
        converted = documents.filter(_converted(locations)).values_list(
            "pk",
            "location_id",
            "currency",
            "vat_exchange_rate",
            "issue_date",
            "tax_total_vat_currency",
            "tax_total",
        )
        for chunk in in_chunks(converted):
            taxes: dict[int, dict] = defaultdict(dict)
            for pk, category, tax_rate, tax in (
                lines.filter(**{f"{kind}_id__in": [row[0] for row in chunk]})
                .values_list(f"{kind}_id", "vat_category", "tax_rate")
                .annotate(MoneySum("tax"))
                .order_by()
            ):
                taxes[pk][(category, tax_rate)] = tax
            for pk, location_id, currency, stated_rate, issue_date, stated, tax_total in chunk:
                rate = vat_rate(
                    currency=currency,
                    location=locations[location_id],
                    stated=stated_rate,
                    issue_date=issue_date,
                )
                split = split_taxes(taxes[pk], rate=rate, stated=stated, tax_total=tax_total)
                for (category, tax_rate), (_tax, in_accounts) in split.items():
                    totals[(location_id, category, Decimal(tax_rate))] += in_accounts
    return totals


def _converted(locations: dict[int, Location]) -> Q:
    """Documents in another currency than their location's accounting currency."""
    by_currency: dict[str, list[int]] = defaultdict(list)
    for location in locations.values():
        by_currency[accounting_currency(location)].append(location.pk)
    condition = Q(pk__in=[])
    for currency, location_ids in by_currency.items():
        condition |= Q(location_id__in=location_ids) & ~Q(currency=currency)
    return condition


def check_output_vat(*, invoices: Ids = Ids.ALL) -> list[str]:
    """The output VAT posted per location, category and rate equals the documents' VAT
    (of ``invoices`` and their credit notes: then only what was posted for them)."""
    posted_lines = JournalLine.objects.filter(purpose=Purpose.OUTPUT_VAT)
    if invoices is not Ids.ALL:
        posted_lines = posted_lines.filter(entry__source__in=_sources(invoices=invoices))
    posted = {
        (row["entry__location_id"], row["vat_category"], row["tax_rate"]): row["c"] - row["d"]
        for row in posted_lines.values("entry__location_id", "vat_category", "tax_rate").annotate(
            d=MoneySum("debit"), c=MoneySum("credit")
        )
    }
    stated = document_vat(invoices=invoices)
    return [
        f"Location {key[0]}, VAT {key[1]} at {key[2]} %: posted {posted.get(key, ZERO)}, "
        f"documents {stated.get(key, ZERO)}."
        for key in sorted(set(posted) | set(stated))
        if posted.get(key, ZERO) != stated.get(key, ZERO)
    ]


def _sources(*, invoices: Ids, customers: Ids = Ids.NONE) -> list[str]:
    """The journal sources of the issued documents, payments and refunds of ``invoices``,
    and of the refunds of credit held by ``customers`` (which belong to no invoice)."""
    expected = []
    if invoices:
        expected += [
            f"invoice:{pk}"
            for pk in Invoice.objects.filter(invoices.q("pk"))
            .exclude(state=Invoice.State.DRAFT)
            .filter(~Q(total=0) | ~Q(net_total=0))
            .values_list("pk", flat=True)
        ]
        expected += [
            f"{'credit_applied' if method == Payment.Method.ACCOUNT_CREDIT else 'payment'}:{pk}"
            for pk, method in Payment.objects.filter(invoices.q("invoice_id")).values_list(
                "pk", "method"
            )
        ]
        expected += [
            f"credit_note:{pk}"
            for pk in CreditNote.objects.filter(invoices.q("invoice_id")).values_list(
                "pk", flat=True
            )
        ]
        expected += [
            f"refund:{pk}"
            for pk in Refund.objects.filter(invoices.q("credit_note__invoice_id")).values_list(
                "pk", flat=True
            )
        ]
    if customers:
        expected += [
            f"refund:{pk}"
            for pk in Refund.objects.filter(
                customers.q("customer_id"), credit_note__isnull=True
            ).values_list("pk", flat=True)
        ]
    return expected


def check_everything_posted(*, invoices: Ids = Ids.ALL, customers: Ids = Ids.ALL) -> list[str]:
    """Every issued document, payment and refund has its entry."""
    expected = _sources(invoices=invoices, customers=customers)
    if invoices is Ids.ALL:
        sources = set(JournalEntry.objects.values_list("source", flat=True))
    else:  # a window: look its sources up (unique, indexed)
        sources = set(
            JournalEntry.objects.filter(source__in=expected).values_list("source", flat=True)
        )
    missing = [source for source in expected if source not in sources]
    return (
        [f"{len(missing)} events have no journal entry, e.g. {', '.join(missing[:5])}."]
        if missing
        else []
    )


def check_accounting_currency(*, journal_entries: Ids = Ids.ALL) -> list[str]:
    """Entries are in their location's accounting currency."""
    return [
        f"Location {location}: entries in another currency than {accounting_currency(location)}."
        for location in Location.objects.all()
        if JournalEntry.objects.filter(journal_entries.q("pk"), location=location)
        .exclude(currency=accounting_currency(location))
        .exists()
    ]


CHECKS = {
    "journal entries balance and are numbered 1..N per journal and year": check_entries_balance,
    "every money event is in the journal": check_everything_posted,
    "customer accounts in the books = customer ledgers": check_customer_balances,
    "output VAT in the books = the documents' VAT, per rate": check_output_vat,
    "journal in each location's accounting currency": check_accounting_currency,
}

DIMENSIONS = {
    check_entries_balance: ("journal_entries",),
    check_everything_posted: ("invoices", "customers"),
    check_customer_balances: ("customers",),
    check_output_vat: ("invoices",),
    check_accounting_currency: ("journal_entries",),
}
WHOLE = {check_output_vat}  # totals per location and rate: one streamed pass
HIGH_WATER = {"journal_entry": JournalEntry}
CHANGED = {
    "journal_entries": lambda *, since, started_at: [Ids(after=since.get("journal_entry", 0))],
}
