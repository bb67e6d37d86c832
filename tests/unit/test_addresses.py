"""Structured addresses: free text split without losing a word, and rendered back with every
word kept. The models, the admin checks and the migration: tests/coworking."""

import re

import pytest

from coworking.addresses import parse_free_text, render_address


def words(text: str) -> list[str]:
    return sorted(re.findall(r"\w+", text.casefold()))


@pytest.mark.parametrize(
    ("text", "fallback", "expected"),
    [
        (
            "Herengracht 100\n1015 BS Amsterdam\nNetherlands",
            "",
            ("Herengracht 100", "", "", "1015 BS", "Amsterdam", "NL"),
        ),
        (
            "12 Rivington Street\nLondon EC2A 3DU\nUnited Kingdom",
            "",
            ("12 Rivington Street", "", "", "EC2A 3DU", "London", "GB"),
        ),
        (
            "12 Rivington Street\nLondon\nEC2A 3DU",
            "GB",
            ("12 Rivington Street", "", "", "EC2A 3DU", "London", "GB"),
        ),
        (
            "12 rue de la Paix\nBât. B\n75002 Paris",
            "FR",
            ("12 rue de la Paix", "Bât. B", "", "75002", "Paris", "FR"),
        ),
        ("1 Example Street", "NL", ("1 Example Street", "", "", "", "", "NL")),
        ("a\nb\nc\nd\n1015 BS Amsterdam", "NL", ("a", "b", "c, d", "1015 BS", "Amsterdam", "NL")),
        (
            "Somewhere 5\nNo postcode here",
            "DE",
            ("Somewhere 5", "No postcode here", "", "", "", "DE"),
        ),
        ("", "", ("", "", "", "", "", "")),
    ],
)
def test_free_text_is_split_without_losing_a_word(text, fallback, expected):
    parts = parse_free_text(text, fallback_country=fallback)
    fields = ("street_line1", "street_line2", "street_line3", "postcode", "city", "country")
    assert tuple(parts[name] for name in fields) == expected
    rendered = render_address(
        street_lines=[parts["street_line1"], parts["street_line2"], parts["street_line3"]],
        postcode=parts["postcode"],
        city=parts["city"],
        country=parts["country"],
    )
    country_line = {"Netherlands", "United Kingdom"}
    kept = [w for w in words(text) if w not in words(" ".join(country_line))]
    assert set(kept) <= set(words(rendered))
