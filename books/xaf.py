"""The journal as an XAF 3.2 auditfile (the Dutch *Auditfile Financieel*), streamed.

Valid against the published schema, vendored in ``books/schemas/`` (taken from the OCA
``l10n-netherlands`` repository, module ``l10n_nl_xaf_auditfile_export``). The totals and
the accounts and customers the period uses are read first (aggregates), then the lines are
written journal by journal as they come from the cursor. An account whose label ends with
its RGS reference code (``books.charts``) carries it as ``leadReference``.
"""

import datetime
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from books.charts import rgs_code
from books.models import CUSTOMER_PURPOSES, Journal, JournalLine, Purpose
from books.selectors import journal_totals
from coworking.db import reporting_db
from coworking.models import Customer, Location

SCHEMA = Path(__file__).parent / "schemas" / "XmlAuditfileFinancieel3.2.xsd"
NAMESPACE = "http://www.auditfiles.nl/XAF/3.2"
JOURNAL_TYPES = {Journal.SALES: "S", Journal.BANK: "B", Journal.MISC: "M"}
PROFIT_AND_LOSS = (Purpose.REVENUE, Purpose.ROUNDING)


def _e(value, limit: int = 999) -> str:
    return escape(str(value or "")[:limit])


def _element(name: str, value, limit: int = 999) -> str:
    return f"<{name}>{_e(value, limit)}</{name}>"


def _amount(value: Decimal) -> tuple[str, str]:
    return f"{abs(value):.2f}", "D" if value >= 0 else "C"


def xaf_lines(
    rows: Iterable[dict], *, location: Location, start: datetime.date, end: datetime.date
) -> Iterator[str]:
    totals = journal_totals(location=location, start=start, end=end)
    db = reporting_db()
    in_period = JournalLine.objects.using(db).filter(
        entry__location=location, entry__date__gte=start, entry__date__lte=end
    )
    accounts = dict(
        in_period.order_by("account_code", "entry__posted_at").values_list(
            "account_code", "account_label"
        )
    )
    purposes = dict(in_period.values_list("account_code", "purpose").distinct())
    customers = (
        Customer.objects.using(db)
        .filter(pk__in=in_period.filter(customer__isnull=False).values("customer_id"))
        .order_by("pk")
    )
    last = totals["last_posted_at"].date() if totals["last_posted_at"] else end
    yield '<?xml version="1.0" encoding="UTF-8"?>'
    yield f'<auditfile xmlns="{NAMESPACE}">'
    yield (
        "<header>"
        + _element("fiscalYear", start.year)
        + _element("startDate", start.isoformat())
        + _element("endDate", end.isoformat())
        + _element("curCode", location.vat_currency or location.default_currency)
        + _element("dateCreated", last.isoformat())
        + _element("softwareDesc", "Coworking back-office", 50)
        + _element("softwareVersion", "1", 20)
        + "</header>"
    )
    yield "<company>"
    yield _element("companyIdent", location.registration_id or location.tax_id, 35)
    yield _element("companyName", location.legal_name)
    yield _element("taxRegistrationCountry", str(location.country))
    yield _element("taxRegIdent", location.tax_id, 30)
    yield (
        "<streetAddress>"
        + _element("streetname", location.street_line1)
        + _element("city", location.city, 50)
        + _element("postalCode", location.postcode, 10)
        + _element("country", str(location.country))
        + "</streetAddress>"
    )
    yield "<customersSuppliers>"
    for customer in customers.iterator():
        yield (
            "<customerSupplier>"
            + _element("custSupID", f"C{customer.pk:06d}", 35)
            + _element("custSupName", customer.billing_name, 50)
            + (_element("taxRegIdent", customer.tax_id, 30) if customer.tax_id else "")
            + _element("custSupTp", "C")
            + "</customerSupplier>"
        )
    yield "</customersSuppliers>"
    yield "<generalLedger>"
    for code, label in sorted(accounts.items()):
        kind = "P" if purposes.get(code) in PROFIT_AND_LOSS else "B"
        yield (
            "<ledgerAccount>"
            + _element("accID", code, 35)
            + _element("accDesc", label)
            + _element("accTp", kind)
            + (_element("leadReference", reference) if (reference := rgs_code(label)) else "")
            + "</ledgerAccount>"
        )
    yield "</generalLedger>"
    yield "<transactions>"
    yield _element("linesCount", in_period.count())
    yield _element("totalDebit", f"{totals['debit']:.2f}")
    yield _element("totalCredit", f"{totals['credit']:.2f}")
    journal = entry = None
    for line in rows:
        if line["entry_id"] != entry and entry is not None:
            yield "</transaction>"
        if line["entry__journal"] != journal:
            if journal is not None:
                yield "</journal>"
            journal = line["entry__journal"]
            yield (
                "<journal>"
                + _element("jrnID", journal, 35)
                + _element("desc", Journal(journal).label)
                + _element("jrnTp", JOURNAL_TYPES[journal])
            )
        if line["entry_id"] != entry:
            entry = line["entry_id"]
            yield (
                "<transaction>"
                + _element("nr", f"{line['entry__fiscal_year']}-{line['entry__number']}", 35)
                + _element("desc", line["entry__label"])
                + _element("periodNumber", line["entry__date"].month)
                + _element("trDt", line["entry__date"].isoformat())
                + _element("sourceID", line["entry__document_number"], 35)
            )
        amount, side = _amount(line["debit"] - line["credit"])
        customer_id = line["customer_id"] if line["purpose"] in CUSTOMER_PURPOSES else None
        yield (
            "<trLine>"
            + _element("nr", line["position"], 35)
            + _element("accID", line["account_code"], 35)
            + _element("docRef", line["entry__document_number"] or "-")
            + _element("effDate", line["entry__date"].isoformat())
            + _element("desc", line["entry__label"])
            + _element("amnt", amount)
            + _element("amntTp", side)
            + (_element("custSupID", f"C{customer_id:06d}", 35) if customer_id else "")
            + (_element("invRef", line["lettering"]) if line["lettering"] else "")
            + "</trLine>"
        )
    if entry is not None:
        yield "</transaction>"
    if journal is not None:
        yield "</journal>"
    yield "</transactions>"
    yield "</company>"
    yield "</auditfile>"
