"""Command-line surfaces: cancel_invoice, reconcile, seed_demo."""

import http.cookiejar
import re
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from credits.models import CreditNote
from credits.reconciliation import CHECKS
from invoicing.models import Invoice
from tests.factories import issued_invoice

pytestmark = pytest.mark.django_db


def test_cancel_invoice_prints_the_credit_note_number(capsys):
    invoice = issued_invoice()
    call_command("cancel_invoice", invoice.number, "--reason", "Booked twice")
    note = CreditNote.objects.get(invoice=invoice)
    assert note.number in capsys.readouterr().out
    assert (note.reason, note.channel) == ("Booked twice", "cli")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: "NOPE-1", "No such invoice"),
        (lambda: _cancelled_number(), "already cancelled"),
    ],
)
def test_cancel_invoice_refusals_exit_non_zero_with_a_sentence(make, message):
    number = make()
    before = CreditNote.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("cancel_invoice", number)
    assert CreditNote.objects.count() == before


def test_cancel_invoice_refuses_an_unknown_user():
    invoice = issued_invoice()
    with pytest.raises(CommandError, match="no user named"):
        call_command("cancel_invoice", invoice.number, "--user", "ghost")
    assert Invoice.objects.get(pk=invoice.pk).state == "issued"


def _cancelled_number():
    invoice = issued_invoice()
    call_command("cancel_invoice", invoice.number)
    return invoice.number


def test_reconcile_reports_a_breach_and_exits_non_zero(capsys, database_breach):
    invoice = issued_invoice()
    call_command("reconcile")
    assert f"All {len(CHECKS)} invariants hold" in capsys.readouterr().out
    # A payment written behind the services' back: on a ledger entry of 1.00 (not its
    # 5.00), invoice not updated.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO coworking_ledgerentry (customer_id, kind, amount, amount_currency, "
            "description, document_number, document_date, created_at) "
            "VALUES (%s, 'payment', -1, 'EUR', 'x', %s, now(), now()) RETURNING id",
            [invoice.customer_id, invoice.number],
        )
        entry_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO invoicing_payment (invoice_id, amount, amount_currency, method, "
            "received_on, reference, created_at, ledger_entry_id) "
            "VALUES (%s, 5, 'EUR', 'cash', now(), '', now(), %s)",
            [invoice.pk, entry_id],
        )
    with pytest.raises(CommandError, match=f"6 of {len(CHECKS)} invariants are broken"):
        call_command("reconcile")
    out = capsys.readouterr().out
    assert f"Invoice {invoice.number}: paid 0.00 but its payments add up to 5.00" in out
    assert "FAIL  ledger balance" in out
    assert "FAIL  balance rows = ledger sums" in out
    assert f"Ledger entry id {entry_id} (payment) does not record the document" in out
    assert "FAIL  every money event is in the journal" in out


def test_reconcile_finds_a_gap_in_the_numbers(capsys, database_breach):
    issued_invoice()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sequences_sequence SET last = last + 1")
    with pytest.raises(CommandError, match="invariants are broken"):
        call_command("reconcile")
    assert "counter is at 2 but the highest number is 1" in capsys.readouterr().out


def test_seed_demo_then_reconcile_is_clean(capsys):
    call_command("seed_demo", "--invoices", "80")
    out = capsys.readouterr().out
    assert "Seeded 3 locations, 64 customers, 80 invoices" in out
    assert Invoice.objects.filter(state="cancelled").exists()
    assert Invoice.objects.filter(state="partially_paid").exists()
    call_command("reconcile")
    call_command("seed_demo")  # a second run changes nothing
    assert Invoice.objects.count() == 80


@pytest.mark.django_db(transaction=True)
def test_demo_login_and_invoice_list_over_real_http(live_server):
    call_command("seed_demo", "--invoices", "30")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{live_server.url}/admin/login/?next=/admin/invoicing/invoice/"
    page = opener.open(login_url).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {
            "username": "admin",
            "password": "admin",
            "csrfmiddlewaretoken": token,
            "next": "/admin/invoicing/invoice/",
        }
    ).encode()
    request = urllib.request.Request(login_url, data=data, headers={"Referer": login_url})
    response = opener.open(request)
    body = response.read().decode()
    assert response.status == 200
    assert response.url.endswith("/admin/invoicing/invoice/")
    assert "<h1>Invoices</h1>" in body
    first_number = Invoice.objects.exclude(number="").order_by("-issue_date", "-id").first().number
    assert first_number in body


def test_ensure_database_creates_a_missing_postgresql_database_once():
    """``make run`` on a database that does not exist yet: created, then left alone."""
    import os
    import subprocess
    import sys
    import uuid

    import psycopg2
    from django.conf import settings

    db = settings.DATABASES["default"]
    name = f"cw_ensure_{uuid.uuid4().hex[:8]}"
    server = dict(user=db["USER"], host=db["HOST"] or None, port=db["PORT"] or None)
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    env = {**os.environ, "DATABASE_URL": url}

    def ensure():
        return subprocess.run(
            [sys.executable, "manage.py", "ensure_database"],
            env=env,
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
            timeout=120,
        )

    try:
        first, second = ensure(), ensure()
        assert first.returncode == 0 and f"Created the PostgreSQL database '{name}'" in first.stdout
        assert second.returncode == 0 and second.stdout == ""
        psycopg2.connect(dbname=name, **server).close()
    finally:
        admin = psycopg2.connect(dbname="postgres", **server)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def test_ensure_database_stops_with_one_sentence_when_it_cannot_create_it():
    import os
    import subprocess
    import sys

    from django.conf import settings

    db = settings.DATABASES["default"]
    url = f"postgres://no_such_role@{db['HOST']}:{db['PORT']}/cw_never_created"
    result = subprocess.run(
        [sys.executable, "manage.py", "ensure_database"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]  # after any start-up log lines
    assert last.startswith("CommandError: ") and "DATABASE_URL" in last


def test_credit_invoice_credits_lines_by_position_and_an_amount(capsys):
    invoice = issued_invoice(specs=[("Day pass", "5", "25.00", "21"), ("Desk", "1", "300", "9")])
    call_command(
        "credit_invoice",
        invoice.number,
        "--line",
        "1:2",
        "--amount",
        "10.00@9",
        "--reason",
        "Unused passes",
        "--code",
        "service_not_used",
    )
    note = CreditNote.objects.get(invoice=invoice)
    assert f"credit note {note.number} for" in capsys.readouterr().out
    assert (note.reason_code, note.channel, note.total.amount) == (
        "service_not_used",
        "cli",
        Decimal("-71.40"),
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--line", "9:1"], "no line at position"),
        (["--line", "1:x"], "is not a number"),
        (["--line", "1:6"], "credit_exceeds_line"),
        (["--amount", "5@20"], "tax_rate_not_on_invoice"),
        ([], "credit_note_invalid"),
    ],
)
def test_credit_invoice_refuses_bad_input_with_a_sentence(arguments, message):
    invoice = issued_invoice(specs=[("Day pass", "5", "25.00", "21")])
    with pytest.raises(CommandError, match=message):
        call_command("credit_invoice", invoice.number, *arguments)
    assert not CreditNote.objects.exists()
