"""The journal as the files accountants and auditors ask for: FEC, the CSV journal (Xero's
manual journal import), DATEV EXTF, XAF 3.2 (``books.xaf``), and the VAT summary as CSV.

One service, ``journal_export``, behind the command, the admin page and the API. Each
format is a generator of lines over ``selectors.journal_lines`` (a cursor read in chunks),
so an export streams in bounded memory whatever its length. Nothing in an export depends
on when it is made (the DATEV header's creation time is the last posting's), so the export
of a closed period is the same bytes every time.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from books.errors import InvalidExport
from books.models import CUSTOMER_PURPOSES, Journal, Purpose
from books.selectors import journal_lines, journal_totals, vat_summary
from books.xaf import xaf_lines
from coworking.models import Location
from coworking.vat import VatCategory


class Format(models.TextChoices):
    FEC = "fec", gettext_lazy("FEC (France)")
    CSV = "csv", gettext_lazy("CSV journal (Xero manual journal)")
    DATEV = "datev", gettext_lazy("DATEV EXTF Buchungsstapel")
    XAF = "xaf", gettext_lazy("XAF 3.2 auditfile (Netherlands)")
    VAT = "vat", gettext_lazy("VAT summary (CSV)")


@dataclass(frozen=True)
class Export:
    filename: str
    content_type: str
    chunks: Iterator[bytes]


FEC_COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
FEC_JOURNALS = {
    Journal.SALES: ("VE", "Ventes"),
    Journal.BANK: ("BQ", "Banque"),
    Journal.MISC: ("OD", "Opérations diverses"),
}
_CONTROL = re.compile(r"[\t\r\n]+")


def _text(value) -> str:
    """One field's text: no tab, line break or separator inside it."""
    return _CONTROL.sub(" ", str(value or "")).strip()


def _comma(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def customer_code(customer_id: int) -> str:
    """The customer's auxiliary account number."""
    return f"C{customer_id:06d}"


def _entry_ref(line: dict) -> str:
    return f"{line['entry__fiscal_year']}-{line['entry__number']}"


def fec_lines(rows: Iterable[dict]) -> Iterator[str]:
    """The FEC of article A47 A-1 of the Livre des procédures fiscales: its 18 columns in
    order, tab-separated, dates YYYYMMDD, amounts with a decimal comma, the customer as
    auxiliary account, the document's currency and amount where it is another one."""
    yield "\t".join(FEC_COLUMNS)
    for line in rows:
        code, name = FEC_JOURNALS[line["entry__journal"]]
        customer = line["customer_id"] if line["purpose"] in CUSTOMER_PURPOSES else None
        foreign = line["currency"] != line["entry__currency"]
        yield "\t".join(
            (
                code,
                name,
                _entry_ref(line),
                f"{line['entry__date']:%Y%m%d}",
                _text(line["account_code"]),
                _text(line["account_label"]),
                customer_code(customer) if customer else "",
                _text(line["customer__billing_name"]) if customer else "",
                _text(line["entry__document_number"]) or _entry_ref(line),
                f"{line['entry__document_date'] or line['entry__date']:%Y%m%d}",
                _text(line["entry__label"]),
                _comma(line["debit"]),
                _comma(line["credit"]),
                "",
                "",
                f"{line['entry__posted_at']:%Y%m%d}",
                _comma(abs(line["amount_currency"])) if foreign else "",
                line["currency"] if foreign else "",
            )
        )


XERO_RATES = {
    VatCategory.ZERO_RATED: "Zero Rated Income",
    VatCategory.EXEMPT: "Exempt Income",
    VatCategory.REVERSE_CHARGE: "No VAT",
    VatCategory.OUTSIDE_SCOPE: "No VAT",
}


def _xero_rate(line: dict) -> str:
    if line["purpose"] != Purpose.REVENUE:
        return "No VAT"
    if line["vat_category"] == VatCategory.STANDARD:
        return f"{line['tax_rate'].normalize():f}% (VAT on Income)"
    return XERO_RATES.get(line["vat_category"], "No VAT")


def _csv_line(values: Iterable, *, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(list(values))
    return buffer.getvalue()


def csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    """Xero's manual journal import: one narration per entry, whose amounts (positive =
    debit) sum to zero. Revenue lines carry their VAT rate's name for the VAT report; the
    VAT itself is its own line, so import with amounts that are "No Tax"."""
    yield _csv_line(("Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount"))
    for line in rows:
        yield _csv_line(
            (
                f"{_entry_ref(line)} {line['entry__journal']} {_text(line['entry__label'])}",
                f"{line['entry__date']:%d/%m/%Y}",
                _text(line["entry__document_number"]),
                line["account_code"],
                _xero_rate(line),
                f"{line['debit'] - line['credit']:.2f}",
            )
        )


def _numbered(*names: str, count: int) -> tuple[str, ...]:
    return tuple(f"{name} {n}" for n in range(1, count + 1) for name in names)


# The column line of a Buchungsstapel (format version 700, category 21, Formatversion 13):
# all 125 columns in DATEV's order and spelling ("Zusatzinformation- Inhalt" without the
# space included), as documented in DATEV's Schnittstellen-Entwicklungsleitfaden
# (https://developer.datev.de/datev/platform/de/dtvf/formate/buchungsstapel) and written by
# open-source exporters such as Odoo's l10n_de DATEV export.
DATEV_COLUMNS = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *_numbered("Beleginfo - Art", "Beleginfo - Inhalt", count=8),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    *_numbered("Zusatzinformation - Art", "Zusatzinformation- Inhalt", count=20),
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
)
# The columns a booking fills (the first 14); the others stay empty.
DATEV_FILLED = 14
_DATEV_EMPTY = ("",) * (len(DATEV_COLUMNS) - DATEV_FILLED)


def _quoted(text: str) -> str:
    return '"' + _text(text).replace('"', "'") + '"'


def datev_lines(
    rows: Iterable[dict], *, location: Location, start: datetime.date, end: datetime.date
) -> Iterator[str]:
    """A DATEV EXTF Buchungsstapel (format version 700, category 21): the header line, the
    column line, then one booking per leg against the entry's first customer leg (the
    debtor, numbered from 10000 as DATEV's personal accounts are). Reverse-charge revenue
    carries the BU-Schlüssel of ``BOOKS_DATEV_REVERSE_CHARGE_KEY``; a credit note names the
    invoice it corrects in Belegfeld 2."""
    totals = journal_totals(location=location, start=start, end=end)
    created = totals["last_posted_at"] or datetime.datetime.combine(end, datetime.time())
    header = (
        '"EXTF"',
        "700",
        "21",
        '"Buchungsstapel"',
        "13",
        f"{created:%Y%m%d%H%M%S}000",
        "",
        '"BK"',
        '""',
        '""',
        str(settings.BOOKS_DATEV_ADVISER),
        str(settings.BOOKS_DATEV_CLIENT),
        f"{start.year}0101",
        "4",
        f"{start:%Y%m%d}",
        f"{end:%Y%m%d}",
        _quoted(f"{location.name} {start:%Y-%m-%d}..{end:%Y-%m-%d}"),
        '""',
        "1",
        "0",
        "1",
        _quoted(location.vat_currency or location.default_currency),
    )
    yield ";".join(header)
    yield ";".join(_quoted(column) for column in DATEV_COLUMNS)
    entry_lines: list[dict] = []
    for line in rows:
        if entry_lines and entry_lines[0]["entry_id"] != line["entry_id"]:
            yield from _datev_entry(entry_lines)
            entry_lines = []
        entry_lines.append(line)
    if entry_lines:
        yield from _datev_entry(entry_lines)


def _datev_account(line: dict) -> str:
    if line["purpose"] in CUSTOMER_PURPOSES and line["customer_id"]:
        return str(10000 + line["customer_id"])
    return line["account_code"]


def _datev_entry(lines: list[dict]) -> Iterator[str]:
    anchor = next((line for line in lines if line["purpose"] in CUSTOMER_PURPOSES), lines[0])
    for line in lines:
        if line is anchor:
            continue
        amount = line["debit"] - line["credit"]
        if not amount:
            continue
        foreign = line["currency"] != line["entry__currency"]
        reverse = line["vat_category"] == VatCategory.REVERSE_CHARGE
        yield ";".join(
            (
                _comma(abs(amount)),
                '"S"' if amount > 0 else '"H"',
                _quoted(line["currency"] if foreign else ""),
                "",
                "",
                "",
                _datev_account(line),
                _datev_account(anchor),
                _quoted(settings.BOOKS_DATEV_REVERSE_CHARGE_KEY if reverse else ""),
                f"{line['entry__date']:%d%m}",
                _quoted(line["entry__document_number"][:36]),
                _quoted(line["entry__corrects"][:12]),
                "",
                _quoted(line["entry__label"][:60]),
                *_DATEV_EMPTY,
            )
        )


def vat_lines(*, location: Location, start: datetime.date, end: datetime.date) -> Iterator[str]:
    yield _csv_line(("category", "category_name", "rate", "base", "vat", "reported_apart"))
    for row in vat_summary(location=location, start=start, end=end):
        yield _csv_line(
            (
                row.category,
                row.category_label,
                f"{row.rate:.2f}",
                f"{row.base:.2f}",
                f"{row.vat:.2f}",
                "yes" if row.apart else "no",
            )
        )


def _encoded(lines: Iterator[str], *, encoding: str, newline: str = "\r\n") -> Iterator[bytes]:
    """Lines joined in chunks of about 64 KiB, encoded."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        chunk.append(line + newline)
        size += len(line)
        if size >= 65536:
            yield "".join(chunk).encode(encoding, errors="replace")
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk).encode(encoding, errors="replace")


def siren(location: Location) -> str:
    return (location.registration_id or location.siret or "")[:9] or "000000000"


def journal_export(
    *, location: Location, format: str, start: datetime.date, end: datetime.date
) -> Export:
    """The location's journal for ``start``..``end`` in ``format`` (``Format``), streamed.

    Raises ``InvalidExport`` for an unknown format or reversed dates.
    """
    if format not in Format.values:
        raise InvalidExport(
            _("Unknown export format %(format)s; choose one of %(formats)s.")
            % {"format": format, "formats": ", ".join(Format.values)}
        )
    if end < start:
        raise InvalidExport(_("The period ends before it starts."))
    rows = journal_lines(location=location, start=start, end=end)
    span = f"{start:%Y%m%d}-{end:%Y%m%d}"
    if format == Format.FEC:
        return Export(
            filename=f"{siren(location)}FEC{end:%Y%m%d}.txt",
            content_type="text/plain; charset=utf-8",
            chunks=_encoded(fec_lines(rows), encoding="utf-8"),
        )
    if format == Format.CSV:
        return Export(
            filename=f"journal-{location.invoice_prefix}-{span}.csv",
            content_type="text/csv; charset=utf-8",
            chunks=_encoded(csv_lines(rows), encoding="utf-8"),
        )
    if format == Format.DATEV:
        return Export(
            filename=f"EXTF_Buchungsstapel_{location.invoice_prefix}_{span}.csv",
            content_type="text/csv; charset=windows-1252",
            chunks=_encoded(
                datev_lines(rows, location=location, start=start, end=end), encoding="cp1252"
            ),
        )
    if format == Format.XAF:
        return Export(
            filename=f"auditfile-{location.invoice_prefix}-{span}.xaf",
            content_type="application/xml",
            chunks=_encoded(
                xaf_lines(rows, location=location, start=start, end=end),
                encoding="utf-8",
                newline="\n",
            ),
        )
    return Export(
        filename=f"vat-{location.invoice_prefix}-{span}.csv",
        content_type="text/csv; charset=utf-8",
        chunks=_encoded(vat_lines(location=location, start=start, end=end), encoding="utf-8"),
    )
