"""The seller and the buyer of an e-invoice, from a location and a customer."""

from babel.numbers import format_currency

from coworking.einvoice.document import Party
from coworking.identifiers import legal_registration_scheme
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
        registration_id=location.registration_id,
        registration_scheme=location.registration_scheme,
        legal_info=legal_mentions(location),
        electronic_address=location.electronic_address,
        electronic_address_scheme=location.electronic_address_scheme,
    )


def buyer(customer: Customer) -> Party:
    """The customer; without a Peppol address of its own, its billing e-mail stands as
    its electronic address (scheme EM)."""
    address, scheme = customer.electronic_address, customer.electronic_address_scheme
    if not address:
        address, scheme = customer.billing_email, "EM"
    return Party(
        name=customer.billing_name,
        street_lines=tuple(customer.street_lines),
        postcode=customer.postcode,
        city=customer.city,
        country=str(customer.country),
        vat_id=customer.tax_id,
        registration_id=customer.registration_id,
        registration_scheme=(
            legal_registration_scheme(str(customer.country)) if customer.registration_id else ""
        ),
        electronic_address=address,
        electronic_address_scheme=scheme,
        email=customer.billing_email,
    )
