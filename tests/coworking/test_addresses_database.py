"""Structured addresses on the models: the printed rendering and the admin-side checks. The
splitting of free text itself: tests/unit."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import CustomerFactory, LocationFactory, french_location


@pytest.mark.django_db
def test_the_printed_address_follows_the_countrys_format():
    location = LocationFactory()
    assert location.address == "Herengracht 100\n1015 BS AMSTERDAM\nNETHERLANDS"
    customer = CustomerFactory(
        street_line1="12 Rivington Street", postcode="EC2A 3DU", city="London", country="GB"
    )
    assert customer.billing_address == "12 Rivington Street\nLONDON\nEC2A 3DU\nUNITED KINGDOM"
    assert CustomerFactory(street_line1="", postcode="", city="", country="BE").billing_address == (
        "BELGIUM"
    )


@pytest.mark.django_db
def test_admin_checks_vat_ids_postcodes_and_french_legal_details():
    location = LocationFactory.build(tax_id="NL123456789B01", postcode="ABC")
    with pytest.raises(ValidationError) as error:
        location.clean()
    assert set(error.value.message_dict) == {"tax_id", "postcode"}

    french = french_location()
    french.clean()  # complete
    french.siret, french.share_capital = "12345678200003", None
    with pytest.raises(ValidationError) as error:
        french.clean()
    assert set(error.value.message_dict) == {"siret", "share_capital"}

    member = CustomerFactory.build(country="", street_line1="", postcode="", city="")
    with pytest.raises(ValidationError) as error:
        member.clean()
    assert set(error.value.message_dict) == {"country"}
    member.country = "DE"
    member.clean()  # a member's minimum address is its country
    company = CustomerFactory.build(kind="company", country="DE", street_line1="", city="")
    with pytest.raises(ValidationError) as error:
        company.clean()
    assert {"street_line1", "city"} <= set(error.value.message_dict)
