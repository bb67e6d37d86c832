"""The VAT rules (``coworking.vat_rules``) as a table: supply kind × buyer kind × country
pair → category and rate, and what no combination may ever give."""

import itertools
from decimal import Decimal

import pytest

from coworking.vat_rules import (
    EU_COUNTRIES,
    STANDARD_RATES,
    Buyer,
    Seller,
    SupplyKind,
    Treatment,
    allowed,
    consistency_error,
    derive,
    override_error,
)

VAT_IDS = {
    "NL": "NL004495445B01",
    "DE": "DE136695976",
    "BE": "BE0403170701",
    "FR": "FR40303265045",
    "GB": "GB980780684",
}


def consumer(country: str) -> Buyer:
    return Buyer.of(country=country, tax_id="", company=False)


def business(country: str, *, vat_id: bool = True) -> Buyer:
    return Buyer.of(
        country=country, tax_id=VAT_IDS.get(country, "") if vat_id else "", company=True
    )


W, G, L, D, S_ = (
    SupplyKind.WORKSPACE,
    SupplyKind.GENERAL_SERVICE,
    SupplyKind.EXEMPT_LETTING,
    SupplyKind.DEPOSIT,
    SupplyKind.ON_SITE_GOODS,
)


@pytest.mark.parametrize(
    ("seller", "kind", "buyer", "category", "rate"),
    [
        # Workspace: where the building is, whoever buys (Art. 47).
        ("NL", W, consumer("NL"), "S", "21"),
        ("NL", W, business("NL"), "S", "21"),
        ("NL", W, business("DE"), "S", "21"),
        ("NL", W, business("US", vat_id=False), "S", "21"),
        ("FR", W, business("BE"), "S", "20"),
        ("BE", W, business("FR"), "S", "21"),
        ("DE", W, consumer("NL"), "S", "19"),
        ("GB", W, business("DE"), "S", "20"),
        # General services: reverse charge to EU businesses abroad (Art. 44, 196).
        ("NL", G, business("DE"), "AE", "0"),
        ("FR", G, business("BE"), "AE", "0"),
        ("DE", G, business("FR"), "AE", "0"),
        ("BE", G, business("NL"), "AE", "0"),
        # ... outside the scope to businesses outside the EU (Art. 44) ...
        ("NL", G, business("US", vat_id=False), "O", "0"),
        ("NL", G, business("GB"), "O", "0"),
        ("GB", G, business("DE"), "O", "0"),
        # ... the location's VAT to consumers, home businesses, and without a valid VAT id.
        ("NL", G, consumer("NL"), "S", "21"),
        ("NL", G, consumer("DE"), "S", "21"),
        ("NL", G, consumer("US"), "S", "21"),
        ("NL", G, business("NL"), "S", "21"),
        ("NL", G, business("DE", vat_id=False), "S", "21"),
        ("GB", G, business("GB"), "S", "20"),
        # Exempt letting with its national basis; deposits outside the scope.
        ("NL", L, business("NL"), "E", "0"),
        ("FR", L, consumer("FR"), "E", "0"),
        ("NL", D, consumer("NL"), "O", "0"),
        ("FR", D, business("DE"), "O", "0"),
        # Goods and catering on site: the location's rate, never reverse charged.
        ("NL", S_, business("DE"), "S", "21"),
    ],
)
def test_the_rules_decide_category_and_rate(seller, kind, buyer, category, rate):
    treatment = derive(kind=kind, seller=Seller(seller), buyer=buyer)
    assert (treatment.category, treatment.rate) == (category, Decimal(rate))
    assert consistency_error(line=treatment, seller=Seller(seller), buyer=buyer) is None


def test_exempt_letting_states_the_national_basis_and_opting_to_tax_makes_it_standard():
    assert "Wet OB" in derive(kind=L, seller=Seller("NL"), buyer=consumer("NL")).reason
    assert "261 D" in derive(kind=L, seller=Seller("FR"), buyer=consumer("FR")).reason
    assert derive(kind=L, seller=Seller("NL"), buyer=consumer("NL")).reason_code == (
        "VATEX-EU-135-1"
    )
    opted = derive(kind=L, seller=Seller("NL", opted_to_tax=True), buyer=consumer("NL"))
    assert (opted.category, opted.rate) == ("S", Decimal("21"))


def test_an_items_own_rate_replaces_the_standard_one_and_zero_is_zero_rated():
    catering = derive(kind=S_, seller=Seller("FR"), buyer=consumer("FR"), item_rate=Decimal("10"))
    assert (catering.category, catering.rate) == ("S", Decimal("10"))
    books = derive(kind=S_, seller=Seller("GB"), buyer=consumer("GB"), item_rate=Decimal("0"))
    assert (books.category, books.rate) == ("Z", Decimal("0"))


SELLERS = ["NL", "FR", "BE", "DE", "GB"]
BUYER_COUNTRIES = ["NL", "FR", "BE", "DE", "GB", "US"]


def _buyers():
    for country in BUYER_COUNTRIES:
        yield consumer(country)
        yield business(country, vat_id=False)
        if country in VAT_IDS:
            yield business(country)


@pytest.mark.parametrize("kind", list(SupplyKind))
def test_over_every_buyer_and_country_pair_no_rule_gives_an_inconsistent_line(kind):
    for seller_country, buyer in itertools.product(SELLERS, list(_buyers())):
        for opted in (False, True):
            seller = Seller(seller_country, opted_to_tax=opted)
            options = allowed(kind=kind, seller=seller, buyer=buyer)
            for option in options:
                where = (kind, seller, buyer, option)
                assert consistency_error(line=option, seller=seller, buyer=buyer) is None, where
                assert override_error(line=option, kind=kind, seller=seller, buyer=buyer) is None
                if option.category == "AE":
                    assert kind == G and buyer.vat_id, where
                    assert buyer.vat_country != seller_country, where
                    assert {buyer.vat_country, seller_country} <= EU_COUNTRIES, where
                if option.category == "O":
                    assert kind in (G, D), where
                if option.category == "E":
                    assert kind in (W, L) and not opted, where
            derived = options[0]
            if kind == W:  # where the building is, whoever buys
                assert (derived.category, derived.rate) == ("S", STANDARD_RATES[seller_country])


@pytest.mark.parametrize(
    ("line", "kind", "seller", "buyer", "message"),
    [
        (
            Treatment("E", Decimal("0"), "VATEX-EU-AE", "Reverse charge"),
            L,
            Seller("NL"),
            business("DE"),
            "cannot give the reverse-charge code",
        ),
        (Treatment("AE", Decimal("0"), "VATEX-EU-AE"), G, Seller("NL"), consumer("DE"), "VAT id"),
        (
            Treatment("AE", Decimal("0"), "VATEX-EU-AE", "Reverse charge"),
            W,
            Seller("NL"),
            business("NL"),
            "domestic reverse-charge basis",
        ),
        (Treatment("O", Decimal("0"), "VATEX-EU-O"), G, Seller("NL"), consumer("NL"), "taxable"),
        (Treatment("O", Decimal("0"), "VATEX-EU-O"), W, Seller("NL"), business("US", vat_id=False), "taxable"),
        (Treatment("AE", Decimal("0"), "VATEX-EU-AE"), W, Seller("NL"), business("DE"), "allows only"),
        (Treatment("S", Decimal("21"), ""), L, Seller("NL"), consumer("NL"), "allows only"),
        (Treatment("S", Decimal("15"), ""), W, Seller("NL"), consumer("NL"), "allows only"),
    ],
)  # fmt: skip
def test_an_override_the_rules_do_not_allow_is_refused_with_the_reason(
    line, kind, seller, buyer, message
):
    assert message in override_error(line=line, kind=kind, seller=seller, buyer=buyer)


def test_a_domestic_reverse_charge_is_allowed_only_with_its_basis_named():
    named = Treatment("AE", Decimal("0"), "VATEX-EU-AE", "Reverse charge, art. 12 lid 5 Wet OB")
    unnamed = Treatment("AE", Decimal("0"), "VATEX-EU-AE", "Reverse charge")
    seller, buyer = Seller("NL"), business("NL")
    assert override_error(line=named, kind=G, seller=seller, buyer=buyer) is None
    assert "basis" in override_error(line=unnamed, kind=G, seller=seller, buyer=buyer)


def test_a_vat_id_that_fails_its_check_digits_makes_no_business_abroad():
    buyer = Buyer.of(country="DE", tax_id="DE136695977", company=False)
    assert buyer.vat_id == "" and not buyer.is_business
    assert derive(kind=G, seller=Seller("NL"), buyer=buyer).category == "S"
