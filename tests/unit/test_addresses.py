"""Structured addresses rendered for print: every part kept, in the country's postal format.
The models and the admin checks: tests/coworking."""

import re

import pytest

from coworking.addresses import country_of_vat_id, render_address


def words(text: str) -> list[str]:
    return sorted(re.findall(r"\w+", text.casefold()))


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            (["Herengracht 100", "", ""], "1015 BS", "Amsterdam", "NL"),
            "Herengracht 100\n1015 BS AMSTERDAM\nNETHERLANDS",
        ),
        (
            (["12 rue de la Paix", "Bât. B", ""], "75002", "Paris", "FR"),
            "12 rue de la Paix\nBât. B\n75002 PARIS\nFRANCE",
        ),
        ((["1 Example Street", "", ""], "", "", ""), "1 Example Street"),
    ],
)
def test_an_address_is_rendered_in_its_countrys_format_with_every_word(parts, expected):
    street_lines, postcode, city, country = parts
    rendered = render_address(
        street_lines=street_lines, postcode=postcode, city=city, country=country
    )
    assert rendered == expected
    assert set(words(" ".join([*street_lines, postcode, city]))) <= set(words(rendered))


@pytest.mark.parametrize(
    ("vat_id", "country"), [("NL123456789B01", "NL"), ("EL123456789", "GR"), ("XX1", ""), ("", "")]
)
def test_the_country_of_a_vat_id_is_its_prefix(vat_id, country):
    assert country_of_vat_id(vat_id) == country
