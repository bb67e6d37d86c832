"""Same document, same bytes: in fresh processes, at different times, with either font
subsetter. WeasyPrint subsets the embedded fonts with HarfBuzz when ``libharfbuzz-subset0``
is installed and with fontTools otherwise; this test runs both, whichever this machine has,
by hiding the library from the process (as on a machine without it). The processes start
without WeasyPrint and ``facturx`` (imported at the first render), and the system check
(asked before it) says what WeasyPrint then finds."""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from credits.services import invoice_cancel
from invoicing.models import Channel
from tests.factories import CustomerFactory, issued_invoice

RENDER = """
import sys
if sys.argv[1] == "fonttools":
    import cffi  # a machine without libharfbuzz-subset0: the library cannot be loaded
    load = cffi.FFI.dlopen
    def dlopen(ffi, name, *args, **kwargs):
        if "harfbuzz-subset" in str(name):
            raise OSError(f"cannot load library {name!r}")
        return load(ffi, name, *args, **kwargs)
    cffi.FFI.dlopen = dlopen
import hashlib, json, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import django
django.setup()
at_start = sorted(name for name in ("weasyprint", "facturx") if name in sys.modules)
from coworking.documents.checks import font_subsetter_check
from coworking.documents.rendering import harfbuzz_subsetter_available
from credits.models import CreditNote
from credits.pdf import credit_note_pdf_bytes
note = CreditNote.objects.select_related("location", "customer").get(pk=int(sys.argv[2]))
warnings_ = [message.id for message in font_subsetter_check()]
data = credit_note_pdf_bytes(credit_note=note)
import weasyprint.text.ffi
print(json.dumps({
    "sha256": hashlib.sha256(data).hexdigest(),
    "harfbuzz": harfbuzz_subsetter_available(),
    "weasyprint_harfbuzz": weasyprint.text.ffi.harfbuzz_subset is not None,
    "at_start": at_start,
    "warnings": warnings_,
    "second": int(time.time()),
}))
"""


def render_in_a_fresh_process(subsetter: str, note_id: int) -> dict:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "LOG_LEVEL": "ERROR",
    }
    result = subprocess.run(
        [sys.executable, "-c", RENDER, subsetter, str(note_id)],
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("subsetter", ["fonttools", "harfbuzz"])
def test_two_fresh_processes_seconds_apart_render_the_same_bytes(transactional_db, subsetter):
    customer = CustomerFactory(language="fr")  # accents, €, narrow no-break spaces
    note = invoice_cancel(
        invoice=issued_invoice(customer=customer), actor=None, channel=Channel.CLI
    )

    first = render_in_a_fresh_process(subsetter, note.pk)
    time.sleep(1.1)  # fontTools would stamp the current second into each font subset
    second = render_in_a_fresh_process(subsetter, note.pk)

    if subsetter == "harfbuzz" and not first["harfbuzz"]:
        pytest.skip("libharfbuzz-subset0 is not installed here (the fontTools case ran)")
    assert first["harfbuzz"] is second["harfbuzz"] is (subsetter == "harfbuzz")
    # The check asks without WeasyPrint (imported at the first render, not at start-up)
    # and agrees with what WeasyPrint loaded.
    assert first["weasyprint_harfbuzz"] is first["harfbuzz"]
    assert first["at_start"] == second["at_start"] == []
    assert first["second"] != second["second"]
    assert first["sha256"] == second["sha256"]
    expected_warnings = [] if subsetter == "harfbuzz" else ["documents.W001"]
    assert first["warnings"] == second["warnings"] == expected_warnings
