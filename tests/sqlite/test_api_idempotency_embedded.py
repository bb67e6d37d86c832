"""The embedded default (``make run`` without DATABASE_URL: SQLite) honours the API's
``Idempotency-Key`` too: PostgreSQL's advisory lock has no SQLite twin, the database's write
lock taken when a transaction begins serialises the claim instead."""

import json

from tests.embedded import embedded_manage

SCRIPT = """
import json
from django.db import connection
from rest_framework.test import APIClient
from tests.factories import issued_invoice, staff_user

client = APIClient(SERVER_NAME="localhost")
client.force_authenticate(staff_user())
invoice = issued_invoice()
url = f"/api/v1/invoices/{invoice.pk}/cancel"
answers = [
    client.post(url, {"reason": "Booked twice"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    for key in ("k-1", "k-1", "k-2")
]
reused = client.post(url, {"reason": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
print("RESULT", json.dumps({
    "vendor": connection.vendor,
    "statuses": [answer.status_code for answer in answers],
    "numbers": [answer.json().get("number") for answer in answers[:2]],
    "third": answers[2].json().get("code"),
    "reused": [reused.status_code, reused.json()["code"]],
}))
"""


def test_a_keyed_cancel_on_the_embedded_default_replays_its_response(tmp_path):
    manage = embedded_manage(tmp_path, LOG_LEVEL="ERROR")
    manage("migrate", "--noinput", "-v0")
    result = json.loads(manage("shell", "-c", SCRIPT).split("RESULT ", 1)[1])
    assert result["vendor"] == "sqlite"
    # The first cancels; the retry with its key replays the same credit note; another key
    # runs the work again and is refused by it (already cancelled).
    assert result["statuses"] == [201, 201, 409]
    assert result["numbers"][0] and result["numbers"][0] == result["numbers"][1]
    assert result["third"] == "invoice_already_cancelled"
    assert result["reused"] == [422, "idempotency_key_reused"]
