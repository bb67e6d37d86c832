"""Money is exact on the embedded default too. SQLite keeps decimals as binary floats, so a
check constraint or a query that adds amounts in the database compares floating-point sums
(229.15 + 229.14 = 458.28999999999996): every money constraint rounds to the cent before it
compares, and every sum goes through ``MoneySum``. Proven on the demo's own invoices, which
hold such amounts: each partly paid or paid one of an 80-invoice demo cancels, and
``reconcile`` finds every invariant holding afterwards.

The seed and the cancels run with ``CELERY_TASK_ALWAYS_EAGER=0`` (their PDFs stay pending)
only to keep the test short: rendering is not what is under test."""

import json

from credits.reconciliation import CHECKS
from tests.embedded import embedded_env, run_manage

CANCEL_EVERY_PAID_ONE = """
import json
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice

outcomes = {}
for invoice in Invoice.objects.filter(state__in=["partially_paid", "paid"]).order_by("pk"):
    try:
        invoice_cancel(invoice=invoice, actor=None, reason="Demo check", channel=Channel.SYSTEM)
        outcomes[invoice.number] = "cancelled"
    except Exception as error:
        outcomes[invoice.number] = f"{type(error).__name__}: {error}"
print("RESULT", json.dumps({
    "outcomes": outcomes,
    "left": Invoice.objects.filter(state__in=["partially_paid", "paid"]).count(),
}))
"""


def test_every_paid_or_partly_paid_demo_invoice_cancels_on_sqlite_and_reconciles(tmp_path):
    env = embedded_env(tmp_path, LOG_LEVEL="ERROR", CELERY_TASK_ALWAYS_EAGER="0")
    run_manage("migrate", "--noinput", "-v0", env=env)
    run_manage("seed_demo", "--invoices", "80", env=env)
    output = run_manage("shell", "-c", CANCEL_EVERY_PAID_ONE, env=env).stdout
    result = json.loads(output.split("RESULT ", 1)[1])
    failed = {
        number: outcome for number, outcome in result["outcomes"].items() if outcome != "cancelled"
    }
    assert len(result["outcomes"]) > 40  # the demo's partly paid and paid invoices (50)
    assert failed == {}
    assert result["left"] == 0
    reconciled = run_manage("reconcile", env=env, check=False)
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert f"All {len(CHECKS)} invariants hold." in reconciled.stdout
