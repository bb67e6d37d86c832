"""The admin in French and Dutch: the project's catalogs are complete, and no admin page a
finance person uses shows the English text of a catalog entry.

A page can show a catalog's English in several ways that a complete catalog alone does not
prevent: an entry left empty or fuzzy, a text translated once at import time, a singular
looked up in a plural entry, or a text stored in the language of whoever wrote it (ledger
descriptions). So every page is rendered in each language and searched for the English of
every entry whose translation differs from it.
"""

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from credits.models import Refund
from credits.services import (
    LineCredit,
    bulk_cancellation_run,
    bulk_cancellation_start,
    credit_note_issue,
    invoice_cancel,
    refund_record,
)
from invoicing.models import Channel
from invoicing.services import payment_record
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    UserFactory,
    issued_invoice,
    portal_member,
)

pytestmark = pytest.mark.django_db

LANGUAGES = ["fr", "nl"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sdr]|\{\}|%%")


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES/django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_has_no_missing_or_fuzzy_translation(language):
    po = catalog(language)
    missing = [
        entry.msgid
        for entry in po
        if not entry.obsolete
        and (
            "fuzzy" in entry.flags
            or (not entry.msgid_plural and not entry.msgstr)
            or (entry.msgid_plural and not all(entry.msgstr_plural.values()))
        )
    ]
    assert missing == []
    compiled = polib.mofile(str(Path(po.fpath).with_suffix(".mo")))
    assert translations(compiled) == translations(po), "run manage.py compilemessages"


def translations(entries) -> dict:
    return {
        (entry.msgctxt, entry.msgid): entry.msgstr or dict(sorted(entry.msgstr_plural.items()))
        for entry in entries
        if entry.msgid and not entry.obsolete and "fuzzy" not in entry.flags
    }


def english_texts(language: str) -> list[str]:
    """The English of each entry of the catalog whose translation differs (or is missing),
    cut at its placeholders; pieces shorter than four letters and words that the language's
    own translations use are left out (they would match translated text)."""
    po = catalog(language)
    translated = " ".join(
        text
        for entry in po
        for text in ([entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values())
    )
    pieces = set()
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        pairs = (
            [(entry.msgid, entry.msgstr)]
            if not entry.msgid_plural
            else [
                (entry.msgid, entry.msgstr_plural.get(0, "")),
                (entry.msgid_plural, entry.msgstr_plural.get(1, "")),
            ]
        )
        for english, translated_text in pairs:
            if "fuzzy" not in entry.flags and translated_text == english:
                continue
            for piece in PLACEHOLDER.split(english):
                piece = piece.strip(" .,:;()")
                if len(re.sub(r"\W", "", piece)) < 4 or "<" in piece:
                    continue
                if re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", translated, re.IGNORECASE):
                    continue
                pieces.add(piece)
    return sorted(pieces, key=len, reverse=True)


class PageText(HTMLParser):
    """What a reader sees: text outside scripts and styles, and the words of buttons, titles
    and placeholders."""

    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        attrs = dict(attrs)
        for name in ("title", "placeholder", "aria-label"):
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def untranslated(html: str, pieces: list[str]) -> list[str]:
    parser = PageText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    found = []
    for piece in pieces:
        for variant in {piece, piece[0].upper() + piece[1:]}:
            if re.search(rf"(?<![\w-]){re.escape(variant)}(?![\w-])", text):
                found.append(variant)
    return found


def eur(value: str) -> Money:
    return Money(Decimal(value), "EUR")


@pytest.fixture
def data():
    """One location's documents in every state a page shows: an open invoice partly paid
    (with a partial credit note), a paid invoice cancelled (credit held, part refunded), a
    draft, and a refund of account credit."""
    location = LocationFactory(name="Canal", invoice_prefix="AMS", credit_note_prefix="AMSC")
    customer = CustomerFactory(location=location, billing_name="Zeeman Studio")
    open_invoice = issued_invoice(customer=customer, paid="100.00")
    credit_note_issue(
        invoice=open_invoice,
        lines=[
            LineCredit(
                invoice_line=open_invoice.lines.order_by("position")[0].pk, quantity=Decimal(1)
            )
        ],
        actor=None,
        channel=Channel.SYSTEM,
        reason_code="service_not_used",
    )
    paid = issued_invoice(customer=customer, paid="all")
    cancelled = invoice_cancel(invoice=paid, actor=None, channel=Channel.SYSTEM).invoice
    refund_record(
        customer=customer,
        amount=eur("10.00"),
        actor=None,
        channel=Channel.SYSTEM,
        kind=Refund.Kind.REFUND,
    )
    payment_record(invoice=issued_invoice(customer=customer), amount=eur("5.00"))
    issued_invoice(customer=customer)
    # A bulk cancellation run to its end: one cancelled, one skipped (already cancelled).
    bulk = bulk_cancellation_start(
        invoice_ids=[issued_invoice(customer=customer).pk, cancelled.pk], actor=None, reason=""
    )
    bulk_cancellation_run(bulk_id=bulk.pk)
    return {
        "bulk": bulk,
        "customer": customer,
        "open": open_invoice,
        "cancelled": cancelled,
        "note": cancelled.credit_notes.get(),
        "payment": open_invoice.payments.get(),
        "refund": Refund.objects.get(),
    }


def admin_pages(client, data):
    """(name, response) of each page staff read, as the browser would reach them."""
    invoice, note = data["open"], data["note"]
    changelist = reverse("admin:invoicing_invoice_changelist")
    credit_form = reverse("admin:invoicing_invoice_issue_credit_note", args=[invoice.pk])
    lines = list(invoice.lines.order_by("position"))
    credit_post = {
        "form-TOTAL_FORMS": str(len(lines)),
        "form-INITIAL_FORMS": str(len(lines)),
        "reason_code": "service_not_used",
        "reason": "",
        "excess": "account_credit",
        "amount": "",
        "tax_rate": "",
        "description": "",
    }
    for index, line in enumerate(lines):
        credit_post[f"form-{index}-invoice_line"] = str(line.pk)
        credit_post[f"form-{index}-quantity"] = "1" if index else ""
    selected = {"action": "cancel_selected", "index": "0", "_selected_action": [invoice.pk]}
    yield "index", client.get(reverse("admin:index"))
    yield "invoice list", client.get(changelist)
    yield "invoice list overdue", client.get(changelist, {"overdue": "yes"})
    yield "invoice change", client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    yield (
        "cancelled invoice",
        client.get(reverse("admin:invoicing_invoice_change", args=[data["cancelled"].pk])),
    )
    yield "invoice add", client.get(reverse("admin:invoicing_invoice_add"))
    yield (
        "cancel confirmation",
        client.get(reverse("admin:invoicing_invoice_cancel", args=[invoice.pk])),
    )
    bulk_confirmation = client.post(changelist, selected)
    yield "bulk cancel confirmation", bulk_confirmation
    yield "credit-note form", client.get(credit_form)
    yield "credit-note confirmation", client.post(credit_form, credit_post)
    yield "credit-note list", client.get(reverse("admin:credits_creditnote_changelist"))
    yield (
        "credit-note change",
        client.get(reverse("admin:credits_creditnote_change", args=[note.pk])),
    )
    yield "customer list", client.get(reverse("admin:coworking_customer_changelist"))
    yield (
        "customer change",
        client.get(reverse("admin:coworking_customer_change", args=[data["customer"].pk])),
    )
    yield "payment list", client.get(reverse("admin:invoicing_payment_changelist"))
    yield (
        "payment change",
        client.get(reverse("admin:invoicing_payment_change", args=[data["payment"].pk])),
    )
    yield "payment add", client.get(reverse("admin:invoicing_payment_add"))
    yield "refund list", client.get(reverse("admin:credits_refund_changelist"))
    yield (
        "refund change",
        client.get(reverse("admin:credits_refund_change", args=[data["refund"].pk])),
    )
    yield (
        "bulk cancellation progress",
        client.get(reverse("admin:invoicing_invoice_bulk_cancellation", args=[data["bulk"].pk])),
    )
    yield "journal export", client.get(reverse("admin:books_journalentry_export"))
    yield "VAT summary", client.get(reverse("admin:books_journalentry_vat_summary"))
    shown = bulk_confirmation.context["confirmation"]  # what Continue posts back
    yield (
        "after a cancel",
        client.post(changelist, {**selected, "post": "yes", "confirmation": shown}, follow=True),
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_pages_show_no_untranslated_catalog_text(client, data, language):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    pieces = english_texts(language)
    assert len(pieces) > 50

    english = {}
    for name, response in admin_pages(client, data):
        assert response.status_code == 200, name
        assert response.headers["Content-Language"] == language, name
        if found := untranslated(response.content.decode(), pieces):
            english[name] = found
    assert english == {}


def test_the_ledger_reads_in_the_readers_language(client, api_client):
    """Entries posted while French was active read in Dutch to a Dutch reader: on the
    customer page and in the API (the stored description stays as it was written)."""
    location = LocationFactory(invoice_prefix="AMS")
    customer = portal_member(location=location, billing_name="Zeeman Studio")
    with translation.override("fr"):
        invoice = issued_invoice(customer=customer)
        payment_record(invoice=invoice, amount=eur("50.00"), method="bank_transfer")
        invoice_cancel(invoice=invoice, actor=None, channel=Channel.SYSTEM)
        refund_record(customer=customer, amount=eur("10.00"), actor=None, channel="system")
    number = invoice.number
    expected = {
        f"Factuur {number}",
        f"Betaling voor {number}",
        f"Creditnota ter annulering van {number}",
        "Terugbetaling van tegoed",
    }

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(
        reverse("admin:coworking_customer_change", args=[customer.pk]),
        headers={"accept-language": "nl"},
    ).content.decode()
    shown = set(
        re.findall(
            r'<tr data-entry="\d+"[^>]*>\s*<td[^>]*>[^<]*</td>\s*<td>[^<]*</td>'
            r"\s*<td>([^<]*)</td>",
            page,
        )
    )
    assert shown == expected
    assert "Paiement" not in page and "Bank transfer" not in page
    assert "(Bankoverschrijving)" in page

    api = api_client(customer.portal_user).get(
        f"/api/v1/customers/{customer.pk}/ledger", headers={"accept-language": "nl"}
    )
    assert {entry["description"] for entry in api.json()["results"]} == expected
