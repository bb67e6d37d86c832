"""What ``reconcile`` holds must not grow with the tables (issue 25: under 300 MB at a
million invoices): no check loads a document, line or entry as a model (not even the
output-VAT check, which reads every document's lines), and the process imports none of
the renderers and validators a check does not need (their libraries alone weigh tens of MB)."""

import json
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.db.models.signals import post_init

from books.models import JournalEntry, JournalLine
from coworking.iteration import Ids, walked
from coworking.models import Customer, LedgerEntry
from credits.models import CreditNote, CreditNoteLine, Refund
from credits.reconciliation import CHECKS, check_stored_pdfs
from credits.services import LineCredit, credit_note_issue
from invoicing.models import Channel, Invoice, InvoiceLine, Payment
from tests.factories import CustomerFactory, issued_invoice

pytestmark = pytest.mark.django_db

HEAVY = ("weasyprint", "facturx", "pypdf", "saxonche", "PIL", "fontTools")

RECONCILE = """
import json, sys
import django
django.setup()
from credits.reconciliation import reconcile
found = reconcile()
print(json.dumps({
    "breaches": {name: breaches for name, breaches in found.items() if breaches},
    "checks": len(found),
    "heavy": sorted(name for name in sys.argv[1:] if name in sys.modules),
}))
"""


def test_no_check_loads_a_document_line_payment_or_entry_as_a_model():
    """The stored-PDF check alone loads documents (their file fields, a chunk at a time) to
    read their files."""
    paid = issued_invoice(customer=CustomerFactory(), paid="all")
    issued_invoice(
        customer=CustomerFactory(), currency="USD", exchange_rate=Decimal("0.9213"), paid="100"
    )
    credit_note_issue(
        invoice=paid,
        lines=[LineCredit(invoice_line=paid.lines.get(position=1).pk, quantity=Decimal("1"))],
        actor=None,
        channel=Channel.CLI,
    )
    watched = (Invoice, InvoiceLine, CreditNote, CreditNoteLine, Payment, Refund)
    watched += (LedgerEntry, JournalEntry, JournalLine)
    loaded = defaultdict(int)

    def count(sender, **kwargs):
        loaded[sender.__name__] += 1

    for model in watched:
        post_init.connect(count, sender=model, weak=False)
    try:
        found = {name: check() for name, check in CHECKS.items() if check is not check_stored_pdfs}
    finally:
        for model in watched:
            post_init.disconnect(count, sender=model)

    assert len(found) == len(CHECKS) - 1 and not any(found.values())
    assert dict(loaded) == {}


def test_the_customer_windows_span_the_table_s_ids_from_its_lowest():
    """Ids start where the sequence stood when the first row came (a restored or copied
    database): windows from 1 would be empty passes, each a few queries."""
    CustomerFactory().delete()
    [CustomerFactory() for _ in range(3)]
    span = Customer.objects.aggregate(low=Min("pk"), high=Max("pk"))
    assert span["low"] > 1
    some = Ids(among=[span["low"]])

    found = list(walked(Ids.ALL, model=Customer, size=2))

    assert found[0].after == span["low"] - 1 and found[-1].upto >= span["high"]
    assert len(found) == (span["high"] - span["low"]) // 2 + 1
    assert list(walked(some, model=Customer, size=2)) == [some]


def test_a_reconcile_process_imports_no_renderer_or_validator():
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "LOG_LEVEL": "ERROR",
    }
    result = subprocess.run(
        [sys.executable, "-c", RECONCILE, *HEAVY],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["checks"] == len(CHECKS) and report["breaches"] == {}
    assert report["heavy"] == []
