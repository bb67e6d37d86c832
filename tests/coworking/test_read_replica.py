"""With a read replica (``DATABASE_REPLICA_URL``), reports read from it and everything else
uses the primary: the journal exports (FEC, CSV, DATEV, XAF), the VAT summary and the
customer statement go to ``replica``; writes, reads in a transaction and reads under a lock
(issue, cancel, partial credit) go to ``default``.

The replica here is Django's test mirror of the test database (``TEST: {"MIRROR":
"default"}``, tests/conftest.py): another connection to the same database, so what is
checked is where each query goes, not replication lag. The tests commit
(``transaction=True``) because a mirror's connection does not see a test's open
transaction."""

import datetime
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from books.exports import Format, journal_export
from books.selectors import vat_summary
from coworking.db import reporting_db
from coworking.models import Customer
from credits.services import LineCredit, credit_note_issue, invoice_cancel
from invoicing.models import Channel
from invoicing.statements import customer_statement
from tests.factories import CustomerFactory, french_location, issued_invoice

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

START = datetime.date(2026, 1, 1)


@pytest.fixture
def replica(settings):
    """Reports read from the replica, as with ``DATABASE_REPLICA_URL`` set."""
    settings.REPORTING_DATABASE = "replica"
    return connections["replica"]


@pytest.fixture
def customer():
    location = french_location(invoice_prefix="PAR", credit_note_prefix="PARC")
    customer = CustomerFactory(location=location)
    first = issued_invoice(customer=customer, specs=[("Desk", "1", "300.00", "20")])
    issued_invoice(customer=customer, specs=[("Coffee", "3", "2.50", "10")])
    invoice_cancel(invoice=first, actor=None, channel=Channel.CLI)
    return customer


class Queries:
    """The SQL each database received during the block."""

    def __enter__(self):
        self.contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in connections}
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self.contexts.values():
            context.__exit__(*exc)

    def on(self, alias: str) -> list[str]:
        return [query["sql"] for query in self.contexts[alias].captured_queries]


def test_without_a_replica_reports_read_from_the_primary(settings):
    assert settings.REPORTING_DATABASE == "default"
    assert reporting_db() == "default"


@pytest.mark.parametrize("format", Format.values)
def test_every_journal_export_reads_the_replica_only(replica, customer, format):
    today = timezone.localdate()
    with Queries() as queries:
        export = journal_export(location=customer.location, format=format, start=START, end=today)
        content = b"".join(export.chunks)

    assert content
    on_replica = queries.on("replica")
    assert any("books_journalline" in sql for sql in on_replica), on_replica
    assert queries.on("default") == []


def test_the_vat_summary_and_the_statement_read_the_replica_only(replica, customer):
    today = timezone.localdate()
    with Queries() as queries:
        rows = vat_summary(location=customer.location, start=START, end=today)
        statements = customer_statement(customer=customer, start=START, end=today)

    # The desk (20 %) was cancelled: its base nets to zero.
    assert {row.rate: row.base for row in rows} == {
        Decimal("10.00"): Decimal("7.50"),
        Decimal("20.00"): Decimal("0.00"),
    }
    (eur,) = statements
    assert [entry.entry.kind for entry in eur.entries] == ["invoice", "invoice", "credit_note"]
    assert eur.closing.amount == Decimal("8.25")
    assert any("coworking_ledgerentry" in sql for sql in queries.on("replica"))
    assert queries.on("default") == []


def test_a_report_inside_a_transaction_reads_the_primary(replica, customer):
    """What a transaction wrote is visible only on its own connection; reads under its
    locks must stay there."""
    with Queries() as queries, transaction.atomic():
        assert reporting_db() == "default"
        vat_summary(location=customer.location, start=START, end=timezone.localdate())

    assert queries.on("replica") == []
    assert any("books_journalline" in sql for sql in queries.on("default"))


def test_issue_cancel_and_partial_credit_never_touch_the_replica(replica):
    customer = CustomerFactory()
    with Queries() as queries:
        invoice = issued_invoice(customer=customer, specs=[("Day pass", "4", "25.00", "21")])
        credit_note_issue(
            invoice=invoice.pk,
            lines=[LineCredit(invoice.lines.get().pk, Decimal("1"))],
            actor=None,
            channel=Channel.API,
        )
        invoice_cancel(invoice=invoice.pk, actor=None, channel=Channel.API)

    assert queries.on("replica") == []
    default = queries.on("default")
    assert any("FOR NO KEY UPDATE" in sql for sql in default)
    assert any("INSERT INTO" in sql for sql in default)


def test_an_object_read_from_the_replica_is_saved_to_the_primary(replica, customer):
    copy = Customer.objects.using("replica").get(pk=customer.pk)
    copy.billing_name = "Renamed"
    with Queries() as queries:
        copy.save(update_fields=["billing_name"])

    assert queries.on("replica") == []
    assert any(sql.startswith("UPDATE") for sql in queries.on("default"))
    assert Customer.objects.get(pk=customer.pk).billing_name == "Renamed"
