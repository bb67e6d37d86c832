"""The arithmetic of document level discounts and charges, without the database: they move
their rate's base, whose VAT is rounded once, and lines still carry the document's VAT."""

from decimal import Decimal

from coworking.einvoice.document import AllowanceCharge, Document, Line, Party
from invoicing.calculations import document_net, rate_adjustments, tax_shares

D = Decimal


def test_adjustments_are_per_rate_and_signed():
    moved = rate_adjustments([(D("21"), D("-10.00")), (D("21.00"), D("2.50")), (D("9"), D("-1"))])

    assert moved == {D("21.00"): D("-7.50"), D("9.00"): D("-1")}


def test_the_vat_of_a_rate_is_its_moved_base_times_the_rate_rounded_once():
    lines = [(D("21"), D("33.33")), (D("21"), D("66.67")), (D("9"), D("10.00"))]

    shares = tax_shares(lines, adjustments={D("21.00"): D("-10.05")})

    # 21 % of 89.95 = 18.8895 → 18.89 shared 1:2; 9 % of 10.00 = 0.90
    assert shares == [D("6.30"), D("12.59"), D("0.90")]
    assert sum(shares[:2]) == D("18.89")


def test_a_full_discount_leaves_no_vat():
    assert tax_shares([(D("21"), D("100.00"))], adjustments={D("21.00"): D("-100.00")}) == [
        D("0.00")
    ]


def test_the_tax_basis_is_the_lines_less_allowances_plus_charges():
    assert document_net([D("640.00"), D("52.50")], [D("-64.00"), D("15.00")]) == D("643.50")


def test_the_breakdown_base_is_moved_by_its_own_rows_only():
    party = Party(name="X", country="NL")
    document = Document(
        type_code="380",
        number="A-1",
        issue_date=None,  # type: ignore[arg-type]
        currency="EUR",
        seller=party,
        buyer=party,
        lines=(
            Line(1, "Desk", D("1"), D("100"), D("100.00"), D("18.90"), "S", D("21.00")),
            Line(2, "Coffee", D("1"), D("10"), D("10.00"), D("0.90"), "S", D("9.00")),
        ),
        net_total=D("100.00"),
        tax_total=D("19.80"),
        total=D("119.80"),
        allowance_charges=(
            AllowanceCharge(False, D("15.00"), "S", D("21.00"), "Loyalty"),
            AllowanceCharge(True, D("5.00"), "S", D("21.00"), "Cleaning", "CG"),
        ),
    )

    bases = {entry.rate: entry.taxable for entry in document.vat_breakdown()}

    assert bases == {D("21.00"): D("90.00"), D("9.00"): D("10.00")}
    assert (document.line_total, document.allowance_total, document.charge_total) == (
        D("110.00"),
        D("15.00"),
        D("5.00"),
    )
