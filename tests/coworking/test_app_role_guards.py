"""The application's own database connection cannot switch the guards off: it runs as a role
that owns nothing (``manage.py grant_app_role``), and every way round the triggers is
refused to it. The test creates a real login role, connects as it with psycopg2, and tries."""

import secrets
from io import StringIO

import pgtrigger
import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from coworking.models import LedgerEntry, NumberSeries
from coworking.numbering import DocumentType, sequence_name
from coworking.triggers import OwnerOnlyIgnore
from credits.documents import CREDIT_NOTE_DOCUMENT
from credits.models import CreditNote
from credits.services import invoice_cancel
from invoicing.models import Channel, Invoice
from tests.factories import CustomerFactory, issued_invoice
from webhooks.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_APPS = {"coworking", "invoicing", "credits", "webhooks"}


@pytest.fixture
def as_app(app_role, monkeypatch):
    """A connection as the application's role, made by the command that production runs."""
    role, password = app_role
    monkeypatch.setenv("DATABASE_APP_PASSWORD", password)
    out = StringIO()
    call_command("grant_app_role", role, "--create", stdout=out)
    assert f"Created the role {role!r}" in out.getvalue()
    db = connection.settings_dict
    app = psycopg2.connect(
        dbname=db["NAME"],
        user=role,
        password=password,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    yield app
    app.close()


def refused(app, *statements: tuple[str, dict]) -> bool:
    """Run ``statements`` in one transaction of the application's connection, commit
    included (the checks deferred to commit count), and say whether PostgreSQL refused."""
    try:
        with app.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        app.commit()
    except psycopg2.Error:
        app.rollback()
        return True
    return False


def ignore_every_trigger() -> tuple[str, dict]:
    names = sorted(trigger.get_pgid(model) for model, trigger in pgtrigger.registered())
    return "SET LOCAL pgtrigger.ignore = '{" + ",".join(names) + "}'", {}


@pytest.fixture
def books():
    """An invoice partly paid, and two cancelled invoices of one location (its credit-note
    counter at 2) whose notes have their PDFs recorded."""
    invoice = issued_invoice(paid="10.00")
    customer = CustomerFactory()
    notes = [
        invoice_cancel(invoice=issued_invoice(customer=customer), actor=None, channel=Channel.CLI)
        for _ in range(2)
    ]
    for note in notes:
        CREDIT_NOTE_DOCUMENT.render_pdf(document=note.pk)
    series = sequence_name(location_id=customer.location_id, document_type=DocumentType.CREDIT_NOTE)
    return {"invoice": invoice.pk, "cn": notes[0].pk, "other": notes[1].pk, "series": series}


def snapshot(books) -> tuple:
    """What the attempts aim at, read as the owner."""
    invoice = Invoice.objects.get(pk=books["invoice"])
    notes = CreditNote.objects.filter(pk__in=[books["cn"], books["other"]]).order_by("pk")
    return (
        invoice.total,
        invoice.issued_at,
        sorted(
            LedgerEntry.objects.filter(document_number=invoice.number).values_list("kind", "amount")
        ),
        NumberSeries.objects.get(name=books["series"]).last,
        [(note.pdf_file.name, note.pdf_sha256) for note in notes],
        Event.objects.count(),
    )


BYPASSES = {
    "ignore, then an issued invoice's total changed": [
        "UPDATE invoicing_invoice SET total = total + 1, net_total = net_total + 1 "
        "WHERE id = %(invoice)s"
    ],
    # A ledger entry its document still points at is kept by the foreign key whatever the
    # triggers do: the attack deletes the payment with it.
    "ignore, then a payment and its ledger entry deleted": [
        "DELETE FROM invoicing_payment WHERE invoice_id = %(invoice)s",
        "DELETE FROM coworking_ledgerentry WHERE kind = 'payment' AND document_number = "
        "(SELECT number FROM invoicing_invoice WHERE id = %(invoice)s)",
        "UPDATE invoicing_invoice SET amount_paid = 0, state = 'issued' WHERE id = %(invoice)s",
    ],
    "ignore, then a ledger entry's amount changed": [
        "UPDATE coworking_ledgerentry SET amount = amount - 1 WHERE id = "
        "(SELECT ledger_entry_id FROM invoicing_invoice WHERE id = %(invoice)s)"
    ],
    "ignore, then a number counter lowered": [
        "UPDATE sequences_sequence SET last = last - 1 WHERE name = %(series)s"
    ],
}
DIRECT = {
    "ALTER TABLE ... DISABLE TRIGGER": ["ALTER TABLE invoicing_invoice DISABLE TRIGGER ALL"],
    "session_replication_role = replica": [
        "SET LOCAL session_replication_role = replica",
        "UPDATE invoicing_invoice SET total = total + 1, net_total = net_total + 1 "
        "WHERE id = %(invoice)s",
    ],
    "TRUNCATE of the webhook outbox": ["TRUNCATE webhooks_event CASCADE"],
    "issued_at of an issued invoice changed": [
        "UPDATE invoicing_invoice SET issued_at = issued_at - interval '1 day' "
        "WHERE id = %(invoice)s"
    ],
    "a credit note's PDF pointed at another note's": [
        "UPDATE credits_creditnote SET (pdf_file, pdf_sha256) = "
        "(SELECT pdf_file, pdf_sha256 FROM credits_creditnote WHERE id = %(other)s) "
        "WHERE id = %(cn)s"
    ],
    "a temporary table shadowing one the triggers read": [
        "CREATE TEMP TABLE invoicing_payment (invoice_id bigint, amount numeric)"
    ],
}


@pytest.mark.parametrize("attempt", [*BYPASSES, *DIRECT])
def test_the_application_role_cannot_switch_the_guards_off(as_app, books, attempt):
    if attempt in BYPASSES:
        statements = [ignore_every_trigger(), *((sql, books) for sql in BYPASSES[attempt])]
    else:
        statements = [(sql, books) for sql in DIRECT[attempt]]
    before = snapshot(books)
    assert refused(as_app, *statements)
    assert snapshot(books) == before


def test_the_application_role_does_its_work_and_the_owner_keeps_the_switch(as_app, books):
    """The refusals are the guards', not a role that can do nothing: the application's role
    reads and writes what the application writes. The owner's ``pgtrigger.ignore`` still
    works (the test teardown's flush uses it)."""
    with as_app.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM invoicing_invoice")
        assert cursor.fetchone()[0] == 3
    assert not refused(
        as_app,
        ("UPDATE credits_creditnote SET pdf_error = 'checked' WHERE id = %(cn)s", books),
    )
    pdf_swap = (
        "UPDATE credits_creditnote SET pdf_sha256 = "
        "(SELECT pdf_sha256 FROM credits_creditnote WHERE id = %s) WHERE id = %s"
    )
    assert refused(as_app, (pdf_swap, [books["other"], books["cn"]]))
    with (
        pgtrigger.ignore("credits.CreditNote:pdf_fixed_once_recorded"),
        connection.cursor() as cursor,
    ):
        cursor.execute(pdf_swap, [books["other"], books["cn"]])
    notes = CreditNote.objects.filter(pk__in=[books["cn"], books["other"]])
    assert len({note.pdf_sha256 for note in notes}) == 1


def test_grant_app_role_refuses_the_owner_and_a_superuser():
    owner = connection.settings_dict["USER"]
    with pytest.raises(CommandError, match="the owner"):
        call_command("grant_app_role", owner)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("grant_app_role", f"cw_missing_{secrets.token_hex(4)}")
    with pytest.raises(CommandError, match="plain role name"):
        call_command("grant_app_role", 'x"; DROP TABLE invoicing_invoice; --')


def test_every_trigger_of_the_project_is_a_guard_only_the_owner_switches_off():
    project = [
        (model, trigger)
        for model, trigger in pgtrigger.registered()
        if model._meta.app_label in PROJECT_APPS
    ]
    assert project
    assert [
        trigger.get_uri(model)
        for model, trigger in project
        if not isinstance(trigger, OwnerOnlyIgnore)
    ] == []
