"""What the cancel and credit-note confirmation pages say: amounts with the signs the credit
note states, no sentence left hanging on a colon, and the internal reason called internal."""

import re

import pytest
from django.urls import reverse

from tests.conftest import money_amounts
from tests.factories import CustomerFactory, issued_invoice, staff_user

pytestmark = pytest.mark.django_db

SPECS = (("Day pass", "5", "20.00", "21"), ("Meeting room (hours)", "3", "35.00", "9"))


@pytest.fixture
def invoice(client):
    client.force_login(staff_user(cancel=True, credit=True))
    return issued_invoice(customer=CustomerFactory(), specs=SPECS)


def credit_confirmation(client, invoice) -> str:
    lines = list(invoice.lines.order_by("position"))
    data = {
        "form-TOTAL_FORMS": str(len(lines)),
        "form-INITIAL_FORMS": str(len(lines)),
        "reason_code": "service_not_used",
        "reason": "Booked twice by the front desk",
        "excess": "account_credit",
        "amount": "10.00",
        "tax_rate": "9.00",
        "description": "Goodwill",
    }
    for index, line in enumerate(lines):
        data[f"form-{index}-invoice_line"] = str(line.pk)
        data[f"form-{index}-quantity"] = "2" if line.position == 1 else ""
    page = client.post(
        reverse("admin:invoicing_invoice_issue_credit_note", args=[invoice.pk]), data
    )
    assert page.status_code == 200 and page.context["preview"] is not None
    return page.content.decode()


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</table>", start)]


def sentences(html: str) -> list[str]:
    """The text of every paragraph and help text of the page's content."""
    content = html[html.index('id="content"') :]
    blocks = re.findall(r"<(p|div class=\"help\")[^>]*>(.*?)</(?:p|div)>", content, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip() for _tag, text in blocks]


def test_the_credit_note_confirmation_states_lines_and_totals_with_the_same_sign(client, invoice):
    html = credit_confirmation(client, invoice)

    lines = [text for _currency, text in money_amounts(section(html, "preview-lines"))]
    totals = [text for _currency, text in money_amounts(section(html, "preview-rates"))]
    # Two day passes (40.00 + 8.40) and the goodwill amount (10.00 + 0.90), as stated.
    assert "-€40.00" in lines and "-€10.00" in lines
    assert totals[-3:] == ["-€50.00", "-€9.30", "-€59.30"]
    assert all(text.startswith("-") for text in lines if text != "€20.00" and text != "€10.00")
    assert all(text.startswith("-") for text in totals), totals
    # What the credit does is said positively, once, with the amount credited.
    effects = [text for _currency, text in money_amounts(section(html, "preview-allocation"))]
    assert effects[0] == "€59.30" and not any(text.startswith("-") for text in effects)
    assert "What the credit of" in html and "€59.30" in html


@pytest.mark.parametrize("page", ["credit", "cancel"])
def test_no_sentence_ends_on_a_colon(client, invoice, page):
    if page == "credit":
        html = credit_confirmation(client, invoice)
    else:
        html = client.get(reverse("admin:invoicing_invoice_cancel", args=[invoice.pk]))
        html = html.content.decode()
    hanging = [text for text in sentences(html) if text.endswith(":")]
    assert hanging == []


def test_the_cancel_page_says_the_reason_is_internal_and_not_printed(client, invoice):
    html = client.get(reverse("admin:invoicing_invoice_cancel", args=[invoice.pk]))
    html = html.content.decode()
    assert "Recorded on the credit notes" not in html
    help_text = next(text for text in sentences(html) if "internal" in text.lower())
    assert "not printed" in help_text and "never sent to the customer" in help_text


def test_the_credit_note_confirmation_calls_the_reason_internal(client, invoice):
    html = credit_confirmation(client, invoice)
    reason = next(text for text in sentences(html) if "Booked twice" in text)
    assert "not printed" in reason and "Internal" in reason


def test_in_french_the_reason_lines_put_a_space_before_the_colon(client, invoice):
    """French typography sets a space before a colon; the label and its value are one
    translated sentence, so each language places its own punctuation."""
    client.cookies["django_language"] = "fr"
    html = credit_confirmation(client, invoice)
    texts = sentences(html)
    assert any(text.startswith("Code motif :") for text in texts), texts
    assert any(
        text.startswith("Motif interne (") and ") : Booked twice" in text for text in texts
    ), texts
