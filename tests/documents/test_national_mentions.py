"""What France, the Netherlands and Belgium ask a document to state, read back from the
PDF (pdftotext) and both XMLs: a French seller's business invoices carry the late-payment
penalties, the 40 € recovery indemnity and the early-payment discount terms as notes PMT,
PMD and AAB; the buyer's SIREN, the category of the operation, the option for VAT on
debits, the place of performance; a Dutch seller its KvK number as "KvK", a Belgian one
its enterprise number; exemption and reverse-charge wordings in the document's language;
no negative zero."""

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from coworking.einvoice.document import Syntax
from coworking.identifiers import electronic_address_error, registration_id_error
from credits.pdf import credit_note_pdf_bytes
from credits.services import invoice_cancel
from invoicing.einvoice import invoice_einvoice
from invoicing.models import Channel
from invoicing.pdf import invoice_pdf_bytes
from tests.conftest import pdf_text
from tests.factories import (
    EXEMPT,
    REVERSE,
    BankAccountFactory,
    CustomerFactory,
    issued_invoice,
    line,
    peppol_business,
    peppol_location,
)
from tests.helpers import normalise

pytestmark = pytest.mark.django_db

CII = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
UBL_CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
PENALTIES = "Pénalités de retard : 12 % par an, à compter du lendemain de la date d'échéance."
INDEMNITY = (
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40,00 € "
    "(Code de commerce, articles L441-10 et D441-5)."
)
NO_DISCOUNT = "Pas d'escompte pour paiement anticipé."


def text_of(pdf: bytes) -> str:
    return " ".join(normalise(pdf_text(pdf)).split())


def cii_notes(xml: bytes) -> dict[str, str]:
    notes = etree.fromstring(xml).findall(".//ram:IncludedNote", CII)
    return {
        note.findtext("ram:SubjectCode", "", CII): normalise(note.findtext("ram:Content", "", CII))
        for note in notes
    }


def french_business_invoice(**location):
    seller = peppol_location("FR", **location)
    return issued_invoice(
        customer=peppol_business(seller, "FR"), specs=[("Poste dédié", "1", "320.00", "20")]
    )


def test_a_french_business_invoice_states_penalties_indemnity_and_discount_everywhere():
    invoice = french_business_invoice()
    text = text_of(invoice_pdf_bytes(invoice=invoice))
    for sentence in (PENALTIES, INDEMNITY, NO_DISCOUNT):
        assert normalise(sentence) in text
    assert "SIREN : 552100554" in text  # the buyer's
    assert "Catégorie de l'opération : prestation de services." in text
    assert "Lieu de la prestation : 12 rue des Archives, 75004 Paris, France" in text

    notes = cii_notes(invoice_einvoice(invoice=invoice, syntax=Syntax.CII))
    expected = tuple(normalise(sentence) for sentence in (PENALTIES, INDEMNITY, NO_DISCOUNT))
    assert (notes["PMT"], notes["PMD"], notes["AAB"]) == expected
    ubl = etree.fromstring(invoice_einvoice(invoice=invoice, syntax=Syntax.UBL))
    (note,) = ubl.findall(f"{UBL_CBC}Note")  # Peppol allows one (PEPPOL-EN16931-R002)
    lines = [normalise(line) for line in note.text.split("\n")]
    for code, sentence in (("PMT", PENALTIES), ("PMD", INDEMNITY), ("AAB", NO_DISCOUNT)):
        assert f"#{code}#{normalise(sentence)}" in lines


def test_a_granted_discount_the_statutory_rate_and_vat_on_debits_are_stated():
    invoice = french_business_invoice(
        late_payment_rate=None,
        early_payment_discount="2 % si paiement sous 8 jours",
        vat_on_debits=True,
    )
    cii = invoice_einvoice(invoice=invoice, syntax=Syntax.CII)
    notes = cii_notes(cii)
    assert notes["AAB"] == "Escompte pour paiement anticipé : 2% si paiement sous 8 jours"
    assert "Banque centrale européenne" in notes["PMT"] and "10 points" in notes["PMT"]
    root = etree.fromstring(cii)
    assert root.findtext(".//ram:ApplicableTradeTax/ram:DueDateTypeCode", None, CII) == "5"
    text = text_of(invoice_pdf_bytes(invoice=invoice))
    assert "Option pour le paiement de la taxe d'après les débits." in text


def test_a_french_consumer_invoice_has_no_business_terms():
    seller = peppol_location("FR")
    member = CustomerFactory(location=seller, country="FR", city="Paris", postcode="75011")
    invoice = issued_invoice(customer=member, specs=[("Pass journée", "1", "25.00", "20")])
    assert cii_notes(invoice_einvoice(invoice=invoice, syntax=Syntax.CII)) == {}
    assert "Pénalités" not in text_of(invoice_pdf_bytes(invoice=invoice))


def test_a_dutch_invoice_says_kvk_and_its_exemption_in_dutch_and_no_negative_zero():
    seller = peppol_location("NL")
    BankAccountFactory(location=seller)  # a Dutch invoice over Peppol states it (NL-R-007)
    invoice = issued_invoice(
        customer=peppol_business(seller, "NL", language="nl"),
        specs=[
            ("Vaste werkplek", "1", "320.00", "21"),
            line("Kantoorruimte", "1", "900.00", "0", category="E", reason=EXEMPT,
                 code="VATEX-EU-135-1"),
        ],
    )  # fmt: skip
    text = text_of(invoice_pdf_bytes(invoice=invoice))
    assert "KvK: 34123456" in text and "KvK: 87654321" in text
    assert "Vrijgesteld van btw: verhuur van onroerende zaken" in text
    assert "Exempt" not in text and "letting" not in text
    note = invoice_cancel(invoice=invoice, actor=None, channel=Channel.CLI)
    credit_text = text_of(credit_note_pdf_bytes(credit_note=note))
    assert "0,00" in credit_text
    assert "−0,00" not in credit_text and "-0,00" not in credit_text


def test_a_belgian_invoice_states_the_enterprise_number_and_autoliquidation_in_french():
    seller = peppol_location("BE")
    invoice = issued_invoice(
        customer=peppol_business(seller, "NL", language="fr"),
        specs=[
            line("Organisation d'événement", "1", "2400.00", "0", category="AE", reason=REVERSE)
        ],
    )
    text = text_of(invoice_pdf_bytes(invoice=invoice))
    assert "Numéro d'entreprise : 0403170701" in text
    assert "Autoliquidation : TVA due par le preneur (art. 196 de la directive" in text
    assert "Reverse charge" not in text


@pytest.mark.parametrize(
    ("country", "number", "valid"),
    [
        ("NL", "34123456", True),
        ("NL", "3412345", False),
        ("BE", "0403.170.701", True),
        ("BE", "0403170702", False),
        ("FR", "552100554", True),
        ("FR", "55210055400013", True),
        ("FR", "552100555", False),
        ("DE", "Berlin (Charlottenburg) HRB 12345", True),
        ("DE", "HRB 12345", False),
        ("GB", "SC123456", True),
        ("GB", "123", False),
    ],
)
def test_register_numbers_are_checked_for_their_country(country, number, valid):
    assert (registration_id_error(country, number) is None) is valid


def test_a_peppol_address_is_checked_under_its_scheme_and_a_customer_form_says_why():
    assert electronic_address_error("0208", "0477472701") is None
    assert electronic_address_error("0208", "0477472702") is not None
    assert electronic_address_error("9930", "DE136695976") is None
    assert electronic_address_error("0088", "5790000435975") is None
    customer = CustomerFactory.build(
        location=peppol_location("NL"),
        kind="company",
        registration_id="1234",
        electronic_address_scheme="0106",
        electronic_address="",
    )
    with pytest.raises(ValidationError) as refused:
        customer.full_clean()
    assert refused.value.message_dict["registration_id"] == ["A KvK number is 8 digits."]
    assert "electronic_address" in refused.value.message_dict


def test_a_french_company_billed_by_a_french_location_needs_its_siren():
    customer = CustomerFactory.build(
        location=peppol_location("FR"), kind="company", country="FR", city="Lyon",
        postcode="69001", street_line1="3 place du Marché", registration_id="",
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        customer.full_clean()
    assert refused.value.message_dict["registration_id"] == [
        "A French seller's invoices state a French company's SIREN."
    ]
    customer.registration_id = "552 100 554"
    customer.full_clean()
