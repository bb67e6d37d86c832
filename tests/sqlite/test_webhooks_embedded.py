"""The embedded demo (``make run`` without DATABASE_URL: SQLite, tasks in-process) records
and delivers webhooks too: the outbox's PostgreSQL statement has a portable twin."""

import json

from tests.embedded import embedded_manage

SCRIPT = """
import json
from credits.services import invoice_cancel
from tests.factories import issued_invoice
from tests.webhook_receiver import Receiver
from webhooks.models import Event
from webhooks.services import endpoint_create

with Receiver() as receiver:
    endpoint, secret = endpoint_create(
        url=receiver.url + "/hooks", event_types=["invoice.cancelled", "credit_note.issued"]
    )
    receiver.secrets.append(secret)
    invoice = issued_invoice()
    invoice_cancel(invoice=invoice, actor=None, channel="cli")
    print("RESULT", json.dumps({
        "received": sorted((item.type, item.verified) for item in receiver.received),
        "sequences": sorted(Event.objects.filter(invoice=invoice).values_list("sequence", flat=True)),
    }))
"""


def test_the_embedded_demo_records_and_delivers_webhooks(tmp_path):
    manage = embedded_manage(tmp_path, WEBHOOKS_ALLOW_LOOPBACK="1", LOG_LEVEL="WARNING")
    manage("migrate", "--noinput", "-v0")
    output = manage("shell", "-c", SCRIPT)
    result = json.loads(output.split("RESULT ", 1)[1])
    assert result["received"] == [["credit_note.issued", True], ["invoice.cancelled", True]]
    assert result["sequences"][:3] == [1, 2, 3]  # issued, cancelled, credit note issued
