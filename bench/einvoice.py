"""Benchmark of e-invoices: ``make bench-einvoice``.

For a 5-line and a 100-line invoice and the credit note of the 5-line one, in both syntaxes
(CII, UBL), the median and p95 time of

- **build**: ``invoicing.einvoice.invoice_einvoice`` / ``credits.einvoice.credit_note_einvoice``,
  from the database (the document's queries included) to the XML bytes;
- **validate**: ``coworking.einvoice.validation.validate`` on those bytes (the XSD and the
  official EN 16931 rules with Saxon-HE), with the one-off cost of the first call in a
  process (compiling the stylesheet) reported apart;
- **Factur-X PDF vs plain PDF**: the credit note's PDF as the renderer makes it, and the same
  render made a Factur-X (PDF/A-3b with its CII attached, ``coworking.einvoice.facturx``),
  interleaved round by round; the CII is built beforehand (its cost is the build above).

The data lives in a database of its own (``BENCH_EINVOICE_DATABASE_URL``, default
``cw_bench_einvoice``), created, migrated and emptied by this script; documents are made through
the services.
"""

import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_bench_database, percentile

django_on_bench_database("cw_bench_einvoice")

from djmoney.money import Money  # noqa: E402

from coworking.einvoice import validation  # noqa: E402
from coworking.einvoice.facturx import weasyprint_options  # noqa: E402
from coworking.models import Customer, Location  # noqa: E402
from credits.einvoice import credit_note_einvoice  # noqa: E402
from credits.services import invoice_cancel  # noqa: E402
from invoicing.einvoice import invoice_einvoice  # noqa: E402
from invoicing.models import Channel  # noqa: E402
from invoicing.services import LineInput, invoice_create_draft, invoice_issue  # noqa: E402

ROUNDS = 40
WARM_UP = 3


def make_documents():
    location = Location.objects.create(
        name="Bench", legal_name="Bench Coworking B.V.", street_line1="Herengracht 100",
        postcode="1015 BS", city="Amsterdam", country="NL", tax_id="NL004495445B01",
        registration_id="12345678", default_currency="EUR", vat_currency="EUR",
        default_tax_rate=Decimal("21"), invoice_prefix="BEI", credit_note_prefix="BECN",
    )  # fmt: skip
    customer = Customer.objects.create(
        location=location, billing_name="Bench Customer B.V.", billing_email="b@example.com",
        street_line1="Keizersgracht 1", postcode="1015 CJ", city="Amsterdam", country="NL",
        tax_id="NL461620935B01",
    )  # fmt: skip

    def invoice(lines: int):
        specs = [
            LineInput(
                description=f"Line {i}",
                quantity=Decimal("1.5"),
                unit_price=Money(Decimal("19.99") + i, "EUR"),
                tax_rate=Decimal("21") if i % 2 else Decimal("9"),
            )
            for i in range(lines)
        ]
        return invoice_issue(invoice=invoice_create_draft(customer=customer, lines=specs))

    small, large = invoice(5), invoice(100)
    note = invoice_cancel(invoice=invoice(5), actor=None, channel=Channel.CLI)
    return {
        "invoice, 5 lines": lambda syntax: invoice_einvoice(invoice=small, syntax=syntax),
        "invoice, 100 lines": lambda syntax: invoice_einvoice(invoice=large, syntax=syntax),
        "credit note, 5 lines": lambda syntax: credit_note_einvoice(
            credit_note=note, syntax=syntax
        ),
        "note": note,
    }


def timed(function, rounds: int) -> list[float]:
    for _ in range(WARM_UP):
        function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    documents = make_documents()
    first = {}
    for syntax in ("cii", "ubl"):
        xml = documents["invoice, 5 lines"](syntax)
        start = time.perf_counter()
        assert validation.validate(xml).valid
        first[syntax] = (time.perf_counter() - start) * 1000
    print("| document | syntax | XML size | build median / p95 (ms) | validate median / p95 (ms) |")
    print("| --- | --- | --- | --- | --- |")
    for name, build in documents.items():
        if name == "note":
            continue
        for syntax in ("cii", "ubl"):
            xml = build(syntax)
            assert validation.validate(xml).valid, name
            builds = timed(lambda b=build, s=syntax: b(s), ROUNDS)
            checks = timed(lambda x=xml: validation.validate(x), ROUNDS)
            print(
                f"| {name} | {syntax} | {len(xml) / 1024:.1f} KiB | "
                f"{statistics.median(builds):.1f} / {percentile(builds, 0.95):.1f} | "
                f"{statistics.median(checks):.1f} / {percentile(checks, 0.95):.1f} |"
            )
    print()
    print(
        "First validation in a process (stylesheet compile included): "
        + ", ".join(f"{syntax} {ms:.0f} ms" for syntax, ms in first.items())
    )
    facturx_against_plain(documents["note"])


def facturx_against_plain(note) -> None:
    """The renderer's own ``HTML.write_pdf`` call, with and without the Factur-X options
    (injected around the call, so the renderer's code is measured as it is)."""
    import weasyprint

    from credits.pdf import credit_note_pdf_bytes

    cii = credit_note_einvoice(credit_note=note, syntax="cii")
    write_pdf = weasyprint.HTML.write_pdf

    def factur_x():
        options = weasyprint_options(cii=cii, issue_date=note.issue_date)  # one-shot source
        weasyprint.HTML.write_pdf = lambda self, *a, **k: write_pdf(self, *a, **k, **options)
        try:
            return credit_note_pdf_bytes(credit_note=note)
        finally:
            weasyprint.HTML.write_pdf = write_pdf

    plain_pdf, facturx_pdf = credit_note_pdf_bytes(credit_note=note), factur_x()
    assert validation.validate(facturx_pdf).valid and facturx_pdf == factur_x()
    for _ in range(WARM_UP):
        credit_note_pdf_bytes(credit_note=note), factur_x()
    plain, fx = [], []
    for _ in range(ROUNDS // 2):
        for render, times in ((lambda: credit_note_pdf_bytes(credit_note=note), plain),
                              (factur_x, fx)):  # fmt: skip
            start = time.perf_counter()
            render()
            times.append((time.perf_counter() - start) * 1000)
    print()
    print("| credit note PDF, 5 lines | size | render median / p95 (ms) |")
    print("| --- | --- | --- |")
    for label, data, times in (("plain", plain_pdf, plain), ("Factur-X", facturx_pdf, fx)):
        print(
            f"| {label} | {len(data) / 1024:.1f} KiB | "
            f"{statistics.median(times):.1f} / {percentile(times, 0.95):.1f} |"
        )
    ratio = statistics.median(fx) / statistics.median(plain)
    print(f"Factur-X / plain, median: {ratio:.2f}x")


if __name__ == "__main__":
    main()
