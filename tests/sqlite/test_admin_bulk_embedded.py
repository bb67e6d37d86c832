"""A large admin bulk cancel on the embedded default (SQLite, no broker) runs in the
background as it does on a Celery worker: Continue answers at once with the progress page,
a thread of the server process works through the invoices, and the page (from the
database) ends with what happened per outcome."""

import json

from tests.embedded import embedded_manage

SCRIPT = """
import json, re, time
from django.test import Client
from django.urls import reverse
from credits.models import BulkCancellation
from credits.services import invoice_cancel
from tests.factories import CustomerFactory, LocationFactory, issued_invoice, staff_user

customer = CustomerFactory(location=LocationFactory())
invoices = [issued_invoice(customer=customer) for _ in range(12)]
invoice_cancel(invoice=invoices[0], actor=None, channel="cli")  # to be skipped
client = Client(SERVER_NAME="localhost")
client.force_login(staff_user(cancel=True))
changelist = reverse("admin:invoicing_invoice_changelist")
data = {
    "action": "cancel_selected",
    "index": "0",
    "_selected_action": [str(invoice.pk) for invoice in invoices],
}
confirmation = client.post(changelist, data).content.decode()
# Continue posts back the figures the page was computed from (as the browser does).
shown = re.search(r'name="confirmation" value="([^"]*)"', confirmation).group(1)

started = time.monotonic()
response = client.post(
    changelist, {**data, "post": "yes", "reason": "Closed", "confirmation": shown}
)
answered_after = time.monotonic() - started
bulk = BulkCancellation.objects.get()
status_when_answered = bulk.status
page_when_answered = client.get(response.url).content.decode()

progress = reverse("admin:invoicing_invoice_bulk_cancellation_progress", args=[bulk.pk])
polls = []
deadline = time.monotonic() + 240
while time.monotonic() < deadline:
    payload = client.get(progress).json()
    polls.append(payload["done"])
    if payload["finished"]:
        break
    time.sleep(0.2)
page = client.get(response.url).content.decode()
summary = page[page.index('id="bulk-summary"'):]
print("RESULT", json.dumps({
    "background_note": "background-note" in confirmation,
    "redirect": response.status_code == 302 and response.url.endswith(f"/{bulk.pk}/"),
    "answered_after": answered_after,
    "status_when_answered": status_when_answered,
    "message": "Cancelling 11 invoices in the background. 1 selected invoice will be skipped"
    in page_when_answered,
    "polls": polls,
    "summary": summary[: summary.index("</ul>")],
    "cancelled": sum(invoice.credit_notes.count() for invoice in invoices),
}))
"""


def test_a_large_bulk_cancel_runs_in_a_background_thread_on_the_embedded_default(tmp_path):
    manage = embedded_manage(tmp_path, LOG_LEVEL="ERROR", ADMIN_BULK_CANCEL_ASYNC_THRESHOLD="5")
    manage("migrate", "--noinput", "-v0")
    result = json.loads(manage("shell", "-c", SCRIPT).split("RESULT ", 1)[1])
    assert result["background_note"] and result["redirect"] and result["message"]
    # Continue answered before the work was done (each cancel renders its PDF in-process).
    assert result["status_when_answered"] != "done", result
    assert result["polls"][-1] == 12 and result["polls"][0] < 12, result["polls"]
    assert "11 invoices cancelled." in result["summary"]
    assert "1 skipped: Already cancelled." in result["summary"]
    assert "failed" not in result["summary"]
    assert result["cancelled"] == 12  # 11 by the bulk, 1 before it
