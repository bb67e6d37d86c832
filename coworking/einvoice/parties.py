"""The seller and the buyer of a document: from a location and a customer when it is
issued (``snapshot``), then as frozen on the document (``seller_of``, ``buyer_of``)."""

import dataclasses

from babel.numbers import format_currency

from coworking.einvoice.document import Party
from coworking.identifiers import legal_registration_scheme, registration_id_value
from coworking.models import Customer, Location


def legal_mentions(location: Location) -> str:
    """What the seller's documents must state about the company beyond name, address and
    ids (BT-33): for a French company its legal form, share capital, RCS city with SIREN
    and SIRET (Code de commerce R123-237, in French); elsewhere its legal form."""
    if not location.is_french:
        return location.legal_form
    capital = format_currency(location.share_capital or 0, location.vat_currency, locale="fr_FR")
    siren = location.registration_id
    siren_spaced = " ".join(siren[i : i + 3] for i in range(0, len(siren), 3))
    return (
        f"{location.legal_form} au capital de {capital} – RCS {location.rcs_city} "
        f"{siren_spaced} – SIRET {location.siret}"
    )


def seller(location: Location) -> Party:
    return Party(
        name=location.legal_name,
        trading_name=location.name if location.name != location.legal_name else "",
        street_lines=tuple(location.street_lines),
        postcode=location.postcode,
        city=location.city,
        country=str(location.country),
        vat_id=location.tax_id,
        registration_id=registration_id_value(str(location.country), location.registration_id),
        registration_scheme=location.registration_scheme,
        legal_info=legal_mentions(location),
        electronic_address=location.electronic_address,
        electronic_address_scheme=location.electronic_address_scheme,
        late_payment_rate=(
            str(location.late_payment_rate) if location.late_payment_rate is not None else ""
        ),
        early_payment_discount=location.early_payment_discount,
        vat_on_debits=location.vat_on_debits,
    )


def buyer(customer: Customer) -> Party:
    """The customer, with its Peppol address where it has one. A customer without one
    states no electronic address (its documents go by e-mail or the portal): Peppol has
    no e-mail scheme (PEPPOL-EN16931-CL008)."""
    country = str(customer.country)
    return Party(
        name=customer.billing_name,
        street_lines=tuple(customer.street_lines),
        postcode=customer.postcode,
        city=customer.city,
        country=country,
        vat_id=customer.tax_id,
        registration_id=registration_id_value(country, customer.registration_id),
        registration_scheme=(
            legal_registration_scheme(country, customer.registration_id)
            if customer.registration_id
            else ""
        ),
        electronic_address=customer.electronic_address,
        electronic_address_scheme=customer.electronic_address_scheme,
        email=customer.billing_email,
        iban=customer.iban,
        business=customer.kind == Customer.Kind.COMPANY or bool(customer.tax_id),
    )


def snapshot(party: Party) -> dict:
    """A party as the JSON a document keeps (``Document.seller``, ``Document.buyer``)."""
    data = dataclasses.asdict(party)
    data["street_lines"] = list(party.street_lines)
    return data


def _from_snapshot(data: dict) -> Party:
    known = {field.name for field in dataclasses.fields(Party)}
    values = {key: value for key, value in data.items() if key in known}
    values["street_lines"] = tuple(values.get("street_lines") or ())
    return Party(**values)


def seller_of(document) -> Party:
    """The seller as the document was issued with (the database refuses an issued document
    without it)."""
    return _from_snapshot(document.seller)


def buyer_of(document) -> Party:
    """The buyer as the document was issued with."""
    return _from_snapshot(document.buyer)
