"""Gapless numbering and exactly-once cancellation under real concurrency on PostgreSQL."""

import random
from collections import Counter
from unittest import mock

import pytest
from django.core.management import call_command

from coworking.models import LedgerEntry
from coworking.numbering import DocumentType, last_number
from credits.errors import InvoiceAlreadyCancelled
from credits.models import CancellationEvent, CreditNote
from credits.reconciliation import reconcile
from credits.services import invoice_cancel
from credits.services import issue as credit_issue
from invoicing.models import Channel, Invoice
from invoicing.services import invoice_issue
from tests.concurrency import run_in_threads
from tests.factories import CustomerFactory, LocationFactory, draft_invoice, issued_invoice

# Each test runs straight to PostgreSQL and through PgBouncer in transaction mode.
pytestmark = pytest.mark.django_db(transaction=True)

ONE_LINE = (("Day pass", "1", "25.00", "21"),)


@pytest.fixture
def share(database_route) -> int:
    """The divisor of a test's document count: 1 straight to PostgreSQL, 2 through
    PgBouncer. The races are the same at a smaller size (eight threads take the same
    counter row from their first document on: every document after the eighth waits for
    one); what PgBouncer could break, a lock or a setting outliving its transaction on a
    pooled server connection, shows whenever a server connection passes to another client,
    which with eight threads on a pool of six happens from the first transactions on and at
    every one after."""
    return 1 if database_route == "direct" else 2


def assert_reconciled():
    breaches = {name: found for name, found in reconcile().items() if found}
    assert breaches == {}
    call_command("reconcile")  # the command agrees (raises CommandError otherwise)


def test_8_threads_issue_200_invoices_numbered_1_to_200(share):
    """(Through PgBouncer 50, numbered 1 to 50: issuing is the cheaper race to repeat.)"""
    count = 200 if share == 1 else 50
    # Four customers of one location: issuing locks the customer, so with one customer the
    # threads would wait on that lock and never race for the location's counter.
    customers = CustomerFactory.create_batch(4, location=LocationFactory())
    drafts = [draft_invoice(customer=customers[i % 4], specs=ONE_LINE) for i in range(count)]

    results = run_in_threads([lambda d=d: invoice_issue(invoice=d) for d in drafts], threads=8)

    assert [r for r in results if isinstance(r, Exception)] == []
    numbers = sorted(Invoice.objects.values_list("sequence_number", flat=True))
    assert numbers == list(range(1, count + 1))
    location_id = customers[0].location_id
    assert last_number(location_id=location_id, document_type=DocumentType.INVOICE) == count
    assert_reconciled()


@pytest.mark.usefixtures("database_route")
def test_50_threads_cancelling_one_invoice_make_one_credit_note():
    invoice = issued_invoice(paid="10.00")

    results = run_in_threads(
        [lambda: invoice_cancel(invoice=invoice.pk, actor=None, channel=Channel.API)] * 50,
        threads=50,
    )

    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"CreditNote": 1, "InvoiceAlreadyCancelled": 49}
    assert CreditNote.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="credit_note").count() == 1
    assert CancellationEvent.objects.count() == 1
    assert_reconciled()


def test_8_threads_cancel_200_invoices_numbered_1_to_200(share):
    """(Through PgBouncer 100, numbered 1 to 100: ``share``.)"""
    count = 200 // share
    customers = CustomerFactory.create_batch(4, location=LocationFactory())
    invoices = [issued_invoice(customer=customers[i % 4], specs=ONE_LINE) for i in range(count)]

    results = run_in_threads(
        [
            lambda i=i: invoice_cancel(invoice=i.pk, actor=None, channel="admin_bulk")
            for i in invoices
        ],
        threads=8,
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    numbers = list(
        CreditNote.objects.order_by("sequence_number").values_list("sequence_number", flat=True)
    )
    assert numbers == list(range(1, count + 1))
    assert_reconciled()


def test_two_locations_keep_independent_sequences_in_parallel(share):
    """(Through PgBouncer 25 per location: ``share``.)"""
    count = 50 // share
    a, b = CustomerFactory(), CustomerFactory()
    invoices = [issued_invoice(customer=c, specs=ONE_LINE) for c in (a, b) for _ in range(count)]
    random.Random(7).shuffle(invoices)

    results = run_in_threads(
        [lambda i=i: invoice_cancel(invoice=i.pk, actor=None, channel="api") for i in invoices],
        threads=8,
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    for customer in (a, b):
        numbers = sorted(
            CreditNote.objects.filter(location=customer.location).values_list(
                "sequence_number", flat=True
            )
        )
        assert numbers == list(range(1, count + 1))
    assert_reconciled()


def test_failures_after_the_number_is_taken_leave_no_gap(share):
    """10% of cancels fail after taking their number; the rollback gives it back. (Through
    PgBouncer 50 cancels: ``share``.)"""
    customer = CustomerFactory()
    invoices = [issued_invoice(customer=customer, specs=ONE_LINE) for _ in range(100 // share)]
    rng = random.Random(2026)
    doomed = {i.pk for i in invoices if rng.random() < 0.10}
    doomed_numbers = {i.number for i in invoices if i.pk in doomed}
    real_post = credit_issue.ledger_post

    def flaky_post(**kwargs):
        if kwargs["document_number"] in doomed_numbers:
            raise RuntimeError("injected failure after the number was taken")
        return real_post(**kwargs)

    with mock.patch.object(credit_issue, "ledger_post", side_effect=flaky_post):
        results = run_in_threads(
            [lambda i=i: invoice_cancel(invoice=i.pk, actor=None, channel="cli") for i in invoices],
            threads=8,
        )

    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == len(doomed) > 0
    assert all(isinstance(f, RuntimeError) for f in failures)
    n = len(invoices) - len(doomed)
    numbers = sorted(CreditNote.objects.values_list("sequence_number", flat=True))
    assert numbers == list(range(1, n + 1))
    assert (
        last_number(location_id=customer.location_id, document_type=DocumentType.CREDIT_NOTE) == n
    )
    still_issued = set(Invoice.objects.filter(state="issued").values_list("pk", flat=True))
    assert still_issued == doomed
    # The failed ones can be cancelled afterwards and continue the series without a gap.
    for pk in sorted(doomed):
        invoice_cancel(invoice=pk, actor=None, channel="cli")
    assert last_number(
        location_id=customer.location_id, document_type=DocumentType.CREDIT_NOTE
    ) == len(invoices)
    with pytest.raises(InvoiceAlreadyCancelled):
        invoice_cancel(invoice=min(doomed), actor=None, channel="cli")
    assert_reconciled()
