"""The scale bench's measurements: the request paths through Django's test client (the real
views, a logged-in staff user or a member's API token), the services side by side for a big
and a new customer, and the batch jobs (reconcile, e-invoice checks, exports)."""

import base64
import datetime
import itertools
import json
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from _setup import percentile

ROOT = Path(__file__).resolve().parent.parent


class Timings:
    """Named lists of milliseconds, in the order they were first measured."""

    def __init__(self):
        self.samples: dict[str, list[float]] = {}
        self.notes: dict[str, str] = {}

    def add(self, name: str, ms: float) -> None:
        self.samples.setdefault(name, []).append(ms)

    def row(self, name: str) -> tuple[float, float]:
        values = self.samples[name]
        return percentile(values, 0.5), percentile(values, 0.95)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def get_ok(client, url: str, *, expect=(200,), **headers) -> None:
    response = client.get(url, **headers)
    if response.status_code not in expect:
        raise SystemExit(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    # Streamed responses (PDFs, exports) are read to the end: that is the work.
    if getattr(response, "streaming", False):
        for _chunk in response.streaming_content:
            pass


def request_paths(*, meta: dict, repeat: int, statement_start: str = "2025-01-01") -> Timings:
    """The admin and API pages, each fetched ``repeat`` times (after one untimed warm-up).
    Static files by their plain names, as in the tests: the manifest needs collectstatic."""
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        return _request_paths(meta=meta, repeat=repeat, statement_start=statement_start)


def _request_paths(*, meta: dict, repeat: int, statement_start: str) -> Timings:
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from coworking.models import Customer
    from invoicing.models import Invoice

    big = Customer.objects.get(pk=meta["big"][0])
    staff = Client(HTTP_HOST="127.0.0.1")
    staff.force_login(_staff_user())
    member = Client(HTTP_HOST="127.0.0.1")
    member_auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.get(user=big.portal_user).key}"}
    staff_auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.get(user=_staff_user()).key}"}
    invoice = Invoice.objects.filter(customer=big).order_by("-id").first()
    location = big.location_id
    year = datetime.date.fromisoformat(statement_start), datetime.date(2025, 12, 31)
    total = Invoice.objects.count()
    deep = max(1, min(999, total // 50 - 2))
    member_rows = Invoice.objects.filter(customer=big).exclude(state=Invoice.State.DRAFT)
    member_deep = max(1, min(999, member_rows.count() // 50 - 2))
    admin = "/admin/invoicing/invoice/"
    paths = {
        "admin list, default page": (staff, admin, {}),
        "admin list, state=issued": (staff, f"{admin}?state__exact=issued", {}),
        "admin list, location": (staff, f"{admin}?location__id__exact={location}", {}),
        "admin list, overdue": (staff, f"{admin}?overdue=yes", {}),
        "admin list, search number": (staff, f"{admin}?q={invoice.number}", {}),
        "admin list, search customer name": (staff, f"{admin}?q={big.billing_name}", {}),
        "admin invoice page": (staff, f"{admin}{invoice.pk}/change/", {}),
        "admin customer page (big)": (staff, f"/admin/coworking/customer/{big.pk}/change/", {}),
        "statement, a year (big)": (
            staff,
            f"/admin/coworking/customer/{big.pk}/statement/?start={year[0]}&end={year[1]}",
            {},
        ),
        "API member list, page 1": (member, "/api/v1/invoices", member_auth),
        "API member list, deep page (cursor)": (
            member,
            f"/api/v1/invoices?cursor={_cursor_after(member_rows, member_deep * 50)}",
            member_auth,
        ),
        "API member list, deep page (?page=)": (
            member,
            f"/api/v1/invoices?page={member_deep + 1}",
            member_auth,
        ),
        "API staff list state=issued, page 1": (
            staff,
            "/api/v1/invoices?state=issued&issued_from=2022-01-01",
            staff_auth,
        ),
        "API staff list, deep page (cursor)": (
            staff,
            f"/api/v1/invoices?cursor={_cursor_after(Invoice.objects.all(), deep * 50)}",
            staff_auth,
        ),
        "API staff list, deep page (?page=)": (
            staff,
            f"/api/v1/invoices?page={deep + 1}",
            staff_auth,
        ),
    }
    for who, client, headers in (("member", member, member_auth), ("staff", staff, staff_auth)):
        pages = [
            client.get(paths[f"API {who} list, deep page ({how})"][1], **headers).json()
            for how in ("cursor", "?page=")
        ]
        numbers = [[row["number"] for row in page["results"]] for page in pages]
        if not numbers[0] or numbers[0] != numbers[1]:
            raise SystemExit(f"API {who} list: the cursor's deep page is not the offset's")
    timings = Timings()
    timings.notes = {"deep pages": f"member page {member_deep + 1}, staff page {deep + 1}"}
    for name, (client, url, headers) in paths.items():
        # A statement of more than one part is prepared by the worker: the request answers
        # with a redirect to its page (timed here), the rendering is timed below.
        expect = (200, 302) if name.startswith("statement") else (200,)
        get_ok(client, url, expect=expect, **headers)  # warm-up, and the smoke check
        for _ in range(repeat):
            timings.add(
                name,
                timed(lambda c=client, u=url, h=headers, e=expect: get_ok(c, u, expect=e, **h)),
            )
    for _ in range(min(repeat, 3)):  # seconds each: fewer of them
        timings.add("statement PDF, rendered (big)", timed(lambda: _statement_pdf(big, year)))
    return timings


def pending_statement(customer, period):
    """A statement of ``period`` waiting for the worker, as the customer page records one."""
    from coworking.documents.rendering import document_language
    from invoicing.prepared_statements import PreparedStatement

    return PreparedStatement.objects.create(
        customer=customer, start=period[0], end=period[1], language=document_language(customer)
    )


def _statement_pdf(customer, period) -> None:
    """What the worker does for a prepared statement (``statement_prepare``), or the
    request itself for a statement of one part: lay it out and store it."""
    from invoicing.prepared_statements import PreparedStatement
    from invoicing.services.statements import statement_prepare

    statement = pending_statement(customer, period)
    prepared = statement_prepare(statement_id=statement.pk)
    if prepared.status != PreparedStatement.Status.READY:
        raise SystemExit(f"the statement was not prepared: {prepared.error}")


def _cursor_after(invoices, rows: int) -> str:
    """The API's cursor of the page after the first ``rows`` of ``invoices`` in the invoice
    list's order: what following ``next`` links that far gives (page ``rows / 50 + 1``)."""
    from django.db.models import F

    issue_date, pk = invoices.order_by(F("issue_date").desc(nulls_first=True), "-id").values_list(
        "issue_date", "id"
    )[rows - 1]
    position = [issue_date.isoformat() if issue_date else None, pk]
    data = json.dumps({"p": position, "b": False}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _staff_user():
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, created = get_user_model().objects.get_or_create(
        username="scale-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        Token.objects.create(user=user)
    return user


def prepare_users(*, meta: dict) -> None:
    """A staff user, and a portal user (with an API token) for the first big customer."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from coworking.models import Customer

    _staff_user()
    big = Customer.objects.get(pk=meta["big"][0])
    if big.portal_user is None:
        big.portal_user = get_user_model().objects.create_user(username="scale-member")
        big.save(update_fields=["portal_user"])
        Token.objects.create(user=big.portal_user)


def services(*, meta: dict, repeat: int) -> Timings:
    """Issue, cancel and partial credit for the big customer and a new one, alternating
    one by one so both see the same machine. Drafts are made untimed beforehand."""
    from _scale_templates import LINES

    from coworking.models import Customer
    from credits.services import LineCredit, credit_note_issue, invoice_cancel
    from invoicing.services import invoice_issue
    from tests.factories import CustomerFactory, draft_invoice

    big = Customer.objects.get(pk=meta["big"][0])
    new = CustomerFactory(location=big.location, billing_name="Newcomer Ltd")
    timings = Timings()
    for _ in range(repeat):
        for label, customer in (("big", big), ("new", new)):
            draft = draft_invoice(customer=customer, specs=LINES)
            started = time.perf_counter()
            invoice = invoice_issue(invoice=draft)
            timings.add(f"issue ({label})", (time.perf_counter() - started) * 1000)
            line = invoice.lines.order_by("position").first()
            timings.add(
                f"partial credit ({label})",
                timed(
                    lambda i=invoice, li=line: credit_note_issue(
                        invoice=i,
                        lines=[LineCredit(invoice_line=li.pk, quantity=Decimal("1"))],
                        actor=None,
                        channel="admin",
                        reason="Desk unused",
                    )
                ),
            )
            timings.add(
                f"cancel ({label})",
                timed(
                    lambda i=invoice: invoice_cancel(
                        invoice=i.pk, actor=None, channel="admin", reason="Booked twice"
                    )
                ),
            )
    return timings


# ``manage.py reconcile`` that writes its own peak resident size (VmHWM, KiB) when it ends.
# Not ``wait4``'s ``ru_maxrss``: Linux carries the forking process's peak over the ``exec``,
# so a child of this bench process (some 400 MiB after the request paths) reported that.
RECONCILE_WITH_ITS_PEAK = """
import atexit, re, runpy, sys
manage, peak = sys.argv[1:3]
def write_peak():
    status = open("/proc/self/status").read()
    open(peak, "w").write(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
atexit.register(write_peak)
sys.argv = [manage, "reconcile"]
runpy.run_path(manage, run_name="__main__")
"""


def batch_jobs(*, meta: dict, database_url: str, env: dict, checks: int = 1000) -> dict:
    """reconcile (a process of its own: time, exit status, peak RSS), 1,000 e-invoice checks,
    and the FEC export of the big customer's location for a year."""
    import os

    from books.exports import Format, journal_export
    from coworking.einvoice.document import Syntax
    from coworking.models import Customer
    from credits.einvoice import einvoices_check

    results = {}
    started = time.perf_counter()
    peak_file = ROOT / "var" / "reconcile-peak.txt"
    process = subprocess.Popen(
        [sys.executable, "-c", RECONCILE_WITH_ITS_PEAK, str(ROOT / "manage.py"), str(peak_file)],
        env={**os.environ, **env, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read()
    code = process.wait()
    elapsed = time.perf_counter() - started
    peak_mib = int(peak_file.read_text()) / 1024
    results["reconcile"] = (
        f"{elapsed:.1f} s, peak RSS {peak_mib:.0f} MiB, {'clean' if code == 0 else f'exit {code}'}"
    )
    results["reconcile_ok"] = code == 0
    if code:
        results["reconcile_output"] = output[-4000:]

    limit = checks
    started = time.perf_counter()
    checks = list(itertools.islice(einvoices_check(syntaxes=Syntax.values, peppol=False), limit))
    elapsed = time.perf_counter() - started
    failed = sum(1 for check in checks if not check.report.valid)
    results["validate_einvoices"] = (
        f"{elapsed * 1000 / len(checks):.1f} s per 1,000 checks "
        f"({len(checks)} done, {failed} with fatal findings)"
    )
    results["einvoices_ok"] = failed == 0

    location = Customer.objects.get(pk=meta["big"][0]).location
    started = time.perf_counter()
    size = 0
    export = journal_export(
        location=location,
        format=Format.FEC,
        start=datetime.date(2025, 1, 1),
        end=datetime.date(2025, 12, 31),
    )
    for chunk in export.chunks:
        size += len(chunk)
    elapsed = time.perf_counter() - started
    results["FEC export, one location, 2025"] = f"{elapsed:.2f} s ({size / 2**20:.1f} MiB)"
    results["bench process peak RSS"] = (
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    return results
