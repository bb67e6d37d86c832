"""What the e-invoice check before the number adds to issuing and cancelling (not a test).
Run: ``.venv/bin/python bench/issue_check.py -n 200``.

Seeds drafts of 5 lines on a dedicated PostgreSQL database, then issues them one transaction
each, alternating invoice by invoice between the service as it is and the service with
``check_before_issue`` replaced by a no-op (the same machine state for both); then cancels
them the same way. Prints the medians and the difference: what the check costs per document,
and the check alone (building, writing and validating the CII) timed by itself.
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
from coworking.einvoice import issue_check  # noqa: E402
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
        f"  {name:<7} with the check  median {with_check:6.2f} ms  p95 {percentile(checked, 0.95):6.2f}"
        f"   without  median {without:6.2f} ms  p95 {percentile(unchecked, 0.95):6.2f}"
        f"   -> +{with_check - without:.2f} ms ({with_check / without:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=200, help="documents per measured series")
    n = parser.parse_args().n
    customer = make_location("CHK")
    drafts = _drafts(customer, 2 * n)
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
    print(f"{n} documents of {LINES} lines each way, one transaction each:")
    for name, series in times.items():
        _report(name, series[True], series[False])
    document = invoice_document(invoice=Invoice.objects.get(pk=drafts[0].pk))
    alone = []
    for _ in range(n):
        started = time.perf_counter()
        issue_check.check_before_issue(document, label="bench")
        alone.append((time.perf_counter() - started) * 1000)
    print(
        f"  the check alone (render + validate the CII): median {statistics.median(alone):.2f} ms"
        f"  p95 {percentile(alone, 0.95):.2f} ms"
    )


if __name__ == "__main__":
    main()
