"""What the e-invoice check before the number adds to issuing and cancelling (not a test).
Run: ``.venv/bin/python bench/issue_check.py -n 200``.

Seeds drafts of 5 lines on a dedicated PostgreSQL database for two buyers, a consumer (the
CII is checked) and a business with a Peppol address (the CII, and the UBL against EN 16931
and Peppol BIS Billing 3.0), then issues them one transaction each, alternating invoice by
invoice between the service as it is and the service with ``check_before_issue`` replaced by
a no-op (the same machine state for both); then cancels them the same way. Prints the
medians and the difference: what the check costs per document, and each part of the check
(writing and validating one syntax, the Peppol rules) timed by itself.
"""

import argparse
import statistics
import time

from _setup import LINES, django_on_bench_database, make_location, percentile

django_on_bench_database("coworking_bench_issue_check")

from decimal import Decimal  # noqa: E402

from djmoney.money import Money  # noqa: E402

import credits.einvoice  # noqa: E402
import invoicing.services.issue  # noqa: E402
from coworking.banking.models import BankAccount  # noqa: E402
from coworking.einvoice import issue_check  # noqa: E402
from coworking.einvoice.document import Syntax, goes_by_peppol  # noqa: E402
from coworking.einvoice.syntax import render  # noqa: E402
from coworking.einvoice.validation import validate  # noqa: E402
from coworking.models import Customer, Location  # noqa: E402
from credits.services import invoice_cancel  # noqa: E402
from invoicing.einvoice import invoice_document  # noqa: E402
from invoicing.models import Channel, Invoice  # noqa: E402
from invoicing.services import LineInput, invoice_create_draft, invoice_issue  # noqa: E402

MODULES = (invoicing.services.issue, credits.einvoice)


def _drafts(customer, n: int) -> list[Invoice]:
    specs = [
        LineInput(
            description=f"Line {i}",
            quantity=Decimal("1.5"),
            unit_price=Money(Decimal("19.99") + i, "EUR"),
            tax_rate=Decimal("21") if i % 2 else Decimal("9"),
        )
        for i in range(LINES)
    ]
    return [invoice_create_draft(customer=customer, lines=specs) for _ in range(n)]


def _peppol_buyer(prefix: str) -> Customer:
    """A Dutch business with a Peppol address, billed by a location that has one (and the
    register number and bank account the Dutch Peppol rules ask of it)."""
    customer = make_location(prefix)
    Location.objects.filter(pk=customer.location_id).update(
        tax_id="NL004495445B01",
        registration_id="34123456",
        electronic_address_scheme="0106",
        electronic_address="34123456",
    )
    BankAccount.objects.create(
        location_id=customer.location_id,
        currency="EUR",
        account_holder="Bench",
        iban="NL91ABNA0417164300",
        bic="ABNANL2A",
    )
    Customer.objects.filter(pk=customer.pk).update(
        kind=Customer.Kind.COMPANY,
        billing_name="Grachten Media B.V.",
        street_line1="Prinsengracht 263",
        postcode="1016 GV",
        city="Amsterdam",
        tax_id="NL853746333B01",
        registration_id="87654321",
        electronic_address_scheme="0106",
        electronic_address="87654321",
    )
    return Customer.objects.select_related("location").get(pk=customer.pk)


def _timed(operation, *, checked: bool) -> float:
    check = issue_check.check_before_issue if checked else (lambda document, *, label: None)
    for module in MODULES:
        module.check_before_issue = check
    started = time.perf_counter()
    operation()
    return (time.perf_counter() - started) * 1000


def _report(name: str, checked: list[float], unchecked: list[float]) -> None:
    with_check, without = statistics.median(checked), statistics.median(unchecked)
    print(
        f"  {name:<15} with the check  median {with_check:6.2f} ms  p95 {percentile(checked, 0.95):6.2f}"
        f"   without  median {without:6.2f} ms  p95 {percentile(unchecked, 0.95):6.2f}"
        f"   -> +{with_check - without:.2f} ms ({with_check / without:.2f}x)"
    )


def _series(drafts: list[Invoice]) -> dict[str, dict[bool, list[float]]]:
    times: dict[str, dict[bool, list[float]]] = {"issue": {}, "cancel": {}}
    for index, draft in enumerate(drafts):
        checked = index % 2 == 0
        times["issue"].setdefault(checked, []).append(
            _timed(lambda d=draft: invoice_issue(invoice=d), checked=checked)
        )
    for index, draft in enumerate(drafts):
        checked = index % 2 == 1
        times["cancel"].setdefault(checked, []).append(
            _timed(
                lambda d=draft: invoice_cancel(invoice=d.pk, actor=None, channel=Channel.CLI),
                checked=checked,
            )
        )
    return times


def _alone(n: int, step) -> float:
    taken = []
    for _ in range(n):
        started = time.perf_counter()
        step()
        taken.append((time.perf_counter() - started) * 1000)
    return statistics.median(taken)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=200, help="documents per measured series")
    n = parser.parse_args().n
    buyers = {"consumer": make_location("CHK"), "Peppol business": _peppol_buyer("PPL")}
    drafts = {name: _drafts(customer, 2 * n) for name, customer in buyers.items()}
    print(f"{n} documents of {LINES} lines each way, one transaction each:")
    for name, series in drafts.items():
        times = _series(series)
        for operation, measured in times.items():
            _report(f"{operation} ({name})", measured[True], measured[False])
    print("  each part of the check alone, median:")
    ratios = {}
    for name, series in drafts.items():
        document = invoice_document(invoice=Invoice.objects.get(pk=series[0].pk))
        assert goes_by_peppol(document) == (name == "Peppol business")
        ratios[name] = _alone(n, lambda d=document: issue_check.check_before_issue(d, label="b"))
        print(f"    the whole check ({name}): {ratios[name]:.2f} ms")
    cii = _alone(n, lambda: validate(render(document, syntax=Syntax.CII)))
    ubl = _alone(n, lambda: validate(render(document, syntax=Syntax.UBL)))
    peppol = _alone(n, lambda: validate(render(document, syntax=Syntax.UBL), peppol=True))
    print(
        f"    CII + EN 16931 {cii:.2f} ms; UBL + EN 16931 {ubl:.2f} ms; UBL + EN 16931 + Peppol "
        f"{peppol:.2f} ms (the Peppol rules {peppol - ubl:+.2f} ms)"
    )
    print(
        f"    a Peppol buyer's check / a consumer's: "
        f"{ratios['Peppol business'] / ratios['consumer']:.2f}x"
    )


if __name__ == "__main__":
    main()
