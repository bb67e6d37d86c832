"""Each export parsed back: FEC, the CSV journal, DATEV EXTF and the VAT summary; the
three surfaces (command, API, admin) give the same bytes; a closed period's export is the
same bytes on a second run."""

import csv
import datetime
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone
from djmoney.money import Money

from books.exports import FEC_COLUMNS, journal_export
from books.selectors import vat_summary
from books.services import period_close
from credits.services import AmountCredit, credit_note_issue, invoice_cancel
from invoicing.models import Channel
from invoicing.services import payment_record
from tests.factories import (
    CustomerFactory,
    UserFactory,
    eu_business,
    french_location,
    issued_invoice,
    line,
)

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 1, 1)
# Credit notes are dated the day they are issued: the period runs to today.
END = timezone.localdate()


@pytest.fixture
def location():
    """A French location with a month of business: rates, reverse charge, USD, payments,
    a partial credit note and a cancel."""
    location = french_location(invoice_prefix="PAR", credit_note_prefix="PARC")
    customer = CustomerFactory(location=location, billing_name="Café des Arts")
    first = issued_invoice(
        customer=customer,
        specs=[("Desk", "1", "300.00", "20"), ("Coffee", "3", "2.50", "10")],
        issue_date=datetime.date(2026, 3, 2),
    )
    payment_record(
        invoice=first, amount=Money(Decimal("100.00"), "EUR"), received_on=datetime.date(2026, 3, 5)
    )
    credit_note_issue(
        invoice=first,
        amount=AmountCredit(value=Money(Decimal("50.00"), "EUR"), tax_rate=Decimal("20")),
        actor=None,
        channel=Channel.CLI,
    )
    issued_invoice(
        customer=eu_business(location),
        specs=[line("Event", "1", "1000.00", "0", category="AE", reason="Reverse charge")],
        issue_date=datetime.date(2026, 3, 3),
    )
    usd = issued_invoice(
        customer=customer, currency="USD", specs=[("Desk", "1", "99.99", "20")],
        issue_date=datetime.date(2026, 3, 4), exchange_rate=Decimal("0.9213"),
    )  # fmt: skip
    invoice_cancel(invoice=usd, actor=None, channel=Channel.CLI)
    return location


def export_bytes(location, format: str) -> tuple[str, bytes]:
    export = journal_export(location=location, format=format, start=START, end=END)
    return export.filename, b"".join(export.chunks)


def test_fec_has_the_18_columns_and_formats_of_a47_a1_and_balances_per_entry(location):
    name, content = export_bytes(location, "fec")
    assert name == f"123456782FEC{END:%Y%m%d}.txt"
    rows = content.decode("utf-8").split("\r\n")
    assert rows[-1] == ""
    rows = [row.split("\t") for row in rows[:-1]]
    assert tuple(rows[0]) == FEC_COLUMNS
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in rows[1:]:
        record = dict(zip(FEC_COLUMNS, row, strict=True))
        for field in ("EcritureDate", "PieceDate", "ValidDate"):
            assert re.fullmatch(r"20\d{6}", record[field]), record
        for field in ("Debit", "Credit"):
            assert re.fullmatch(r"\d+,\d{2}", record[field]), record
        assert record["JournalCode"] in {"VE", "BQ", "OD"}
        assert record["PieceRef"]
        if record["CompteNum"].startswith("411"):
            assert record["CompAuxNum"].startswith("C") and record["CompAuxLib"]
        if record["Idevise"]:
            assert record["Idevise"] == "USD" and re.fullmatch(
                r"\d+,\d{2}", record["Montantdevise"]
            )
        amount = Decimal(record["Debit"].replace(",", ".")) - Decimal(
            record["Credit"].replace(",", ".")
        )
        sums[(record["JournalCode"], record["EcritureNum"])] += amount
    assert len(sums) == 6  # three invoices, two credit notes, one payment
    assert set(sums.values()) == {Decimal(0)}
    numbers = defaultdict(list)
    for journal, number in sums:
        numbers[journal].append(int(number.split("-")[1]))
    assert all(sorted(found) == list(range(1, len(found) + 1)) for found in numbers.values())


def test_csv_journal_sums_to_zero_per_narration_in_xero_columns(location):
    _name, content = export_bytes(location, "csv")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert list(rows[0]) == ["Narration", "Date", "Description", "AccountCode", "TaxRate", "Amount"]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        datetime.datetime.strptime(row["Date"], "%d/%m/%Y")
        totals[row["Narration"]] += Decimal(row["Amount"])
    assert set(totals.values()) == {Decimal(0)}
    assert {"20% (VAT on Income)", "10% (VAT on Income)", "No VAT"} <= {r["TaxRate"] for r in rows}


def test_datev_has_the_extf_header_the_column_line_and_windows_1252(location):
    _name, content = export_bytes(location, "datev")
    text = content.decode("cp1252")
    header, columns, *bookings = [row for row in text.split("\r\n") if row]
    fields = header.split(";")
    assert fields[:5] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13"]
    assert (fields[14], fields[15]) == ("20260101", f"{END:%Y%m%d}")
    assert columns.split(";")[:2] == ['"Umsatz (ohne Soll/Haben-Kz)"', '"Soll/Haben-Kennzeichen"']
    assert "Café" in text  # é encoded in Windows-1252
    reverse = [b for b in bookings if b.split(";")[6] == "706200"]
    assert reverse and all(b.split(";")[8] == '"46"' for b in reverse)
    corrects = [b for b in bookings if b.split(";")[11] not in ('""',)]
    assert corrects and all(b.split(";")[11].strip('"').startswith("PAR-") for b in corrects)


def test_datev_writes_every_column_of_format_700_and_each_booking_fills_them_all(location):
    _name, content = export_bytes(location, "datev")
    header, columns, *bookings = [
        row for row in csv.reader(io.StringIO(content.decode("cp1252")), delimiter=";") if row
    ]
    assert header[:5] == ["EXTF", "700", "21", "Buchungsstapel", "13"]
    assert len(columns) == 125
    assert columns[:14] == [
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
    ]
    assert columns[20:22] == ["Beleginfo - Art 1", "Beleginfo - Inhalt 1"]
    assert columns[113:116] == ["Festschreibung", "Leistungsdatum", "Datum Zuord. Steuerperiode"]
    assert columns[-1] == "Abw. Skontokonto"
    assert len(set(columns)) == len(columns)
    assert bookings and {len(booking) for booking in bookings} == {len(columns)}
    assert all(not any(booking[14:]) for booking in bookings)
    assert all(re.fullmatch(r"\d+,\d\d", b[0]) and b[1] in ("S", "H") for b in bookings)
    assert all(re.fullmatch(r"\d{4}", b[9]) and b[10] for b in bookings)


def test_vat_summary_nets_credit_notes_and_keeps_reverse_charge_apart(location):
    rows = {
        (row.category, row.rate): row
        for row in vat_summary(location=location, start=START, end=END)
    }
    standard = rows[("S", Decimal("20.00"))]
    # 300 + USD 99.99 at 0.9213 (92.12) - 50 credited - the USD invoice cancelled.
    assert (standard.base, standard.vat) == (Decimal("250.00"), Decimal("50.00"))
    assert rows[("S", Decimal("10.00"))].vat == Decimal("0.75")
    assert rows[("AE", Decimal("0.00"))].apart and rows[("AE", Decimal("0.00"))].vat == 0
    _name, content = export_bytes(location, "vat")
    assert "AE,Reverse charge,0.00,1000.00,0.00,yes" in content.decode()


def test_a_closed_periods_export_is_the_same_bytes_every_time_and_from_every_surface(
    location, client, tmp_path
):
    end = datetime.date(2026, 11, 30)
    period_close(location=location, start=START, end=end, actor=None)

    def export_bytes() -> bytes:
        return b"".join(
            journal_export(location=location, format="fec", start=START, end=end).chunks
        )

    first = export_bytes()
    assert b"\t20260304\tInvoice PAR-2026-000003, Caf\xc3\xa9 des Arts\t" in first
    assert export_bytes() == first
    output = tmp_path / "fec.txt"
    call_command(
        "export_journal", "--format", "fec", "--location", "PAR", "--from", "2026-01-01",
        "--to", "2026-11-30", "--output", str(output),
    )  # fmt: skip
    assert output.read_bytes() == first
    user = UserFactory(is_staff=True)
    client.force_login(user)
    query = "format=fec&location=PAR&from=2026-01-01&to=2026-11-30"
    assert client.get(f"/api/v1/journal/export?{query}").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="export_journal"))
    response = client.get(f"/api/v1/journal/export?{query}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="123456782FEC20261130.txt"'
    assert b"".join(response.streaming_content) == first
    admin = client.get(
        "/admin/books/journalentry/export/",
        {"format": "fec", "location": location.pk, "start": "2026-01-01", "end": "2026-11-30"},
    )
    assert admin.status_code == 200
    assert b"".join(admin.streaming_content) == first


def test_an_unknown_format_is_refused_with_a_problem(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="export_journal"))
    client.force_login(user)
    french_location(invoice_prefix="PAR", credit_note_prefix="PARC")
    response = client.get(
        "/api/v1/journal/export?format=xls&location=PAR&from=2026-01-01&to=2026-01-31"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "export_invalid"


def test_xaf_is_valid_against_the_published_schema_and_balances(location):
    from lxml import etree

    from books.xaf import NAMESPACE, SCHEMA

    _name, content = export_bytes(location, "xaf")
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.fromstring(content)
    schema.assertValid(document)
    ns = {"x": NAMESPACE}
    lines = document.findall(".//x:trLine", ns)
    assert int(document.findtext(".//x:linesCount", namespaces=ns)) == len(lines)
    debit = sum(
        Decimal(line.findtext("x:amnt", namespaces=ns))
        for line in lines
        if line.findtext("x:amntTp", namespaces=ns) == "D"
    )
    credit = sum(
        Decimal(line.findtext("x:amnt", namespaces=ns))
        for line in lines
        if line.findtext("x:amntTp", namespaces=ns) == "C"
    )
    assert debit == credit == Decimal(document.findtext(".//x:totalDebit", namespaces=ns))
    assert {j.findtext("x:jrnTp", namespaces=ns) for j in document.findall(".//x:journal", ns)} == {
        "S",
        "B",
    }
