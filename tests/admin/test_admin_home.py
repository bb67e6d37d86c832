"""The admin home in a finance person's order: Finance first, the machinery last."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# (first section, its lists in order, last section) per admin language.
EXPECTED = {
    "en": ("Finance", ["Invoices", "Credit notes", "Customers", "Payments", "Refunds"], "System"),
    "fr": ("Finance", ["Factures", "Avoirs", "Clients", "Paiements", "Remboursements"], "Système"),
    "nl": (
        "Financiën",
        ["Facturen", "Creditnota's", "Klanten", "Betalingen", "Terugbetalingen"],
        "Systeem",
    ),
}


def sections(html: str) -> list[tuple[str, list[str]]]:
    """(caption, model names) of each group of the home page's app list, in page order."""
    content = html.split('id="content-main"', 1)[1]
    found = []
    for table in re.findall(r"<table>(.*?)</table>", content, re.S):
        caption = re.search(r'class="section"[^>]*>([^<]+)</a>', table).group(1)
        names = re.findall(r'<th scope="row"[^>]*>\s*<a href="[^"]+"[^>]*>([^<]+)</a>', table)
        found.append((unescape(caption.strip()), [unescape(n.strip()) for n in names]))
    return found


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_admin_home_lists_finance_first_and_system_last(client, language):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(reverse("admin:index"), headers={"accept-language": language})
    found = sections(html.content.decode())
    first, models, last = EXPECTED[language]

    assert found[0] == (first, models)
    assert found[-1][0] == last
    system = found[-1][1]
    assert len(system) >= 5  # bulk cancellations, audit events, tokens, axes, sequences
    assert not {name for _, names in found[:-1] for name in names} & set(system)
