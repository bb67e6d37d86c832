"""Default charts of accounts, by the location's country.

France follows the Plan comptable général (706 services, 44571 VAT collected, 411 customers,
4191 advances received from customers, 467 other debtors and creditors, 512 bank, 53 cash,
658/758 management charges and income). The Netherlands uses the account numbers of a
small Dutch chart in the RGS order (1xxx balance sheet, 8xxx turnover), each label ending
with the account's RGS 3.x reference code, "(RGS BLimBanRba)", which the XAF auditfile
writes as the account's ``leadReference`` (there is no field for it on ``Account``). The
codes are those of the Referentie Grootboekschema (https://www.referentiegrootboekschema.nl,
RGS 3.x: WOmzNodOdh services at the standard rate, WOmzNodOdg services at 0 % or not taxed
in the Netherlands, BSchBepBtwOla/BSchBepBtwOlt VAT at the standard/reduced rate,
BVorDebHad trade debtors, BLimBanRba bank current account, BLimKruSto and BLimKru amounts
in transit, BLimKasKas cash, WBedAdlBet payment differences; customer credit held and
refunds payable carry the group code BSchOvs, other debts, for the accountant to refine).
The United Kingdom (and any other country) uses Xero's default UK chart (200 Sales, 610 Accounts Receivable,
820 VAT, 090 Bank), so the CSV journal imports there unchanged. Germany uses SKR03 (8400,
1776, 1400, 1200), the chart DATEV users keep. Staff edit the codes and labels in the
admin; what was posted keeps what it was posted with.
"""

import re

from books.models import Purpose

# (purpose, key, code, label); a blank key is the purpose's default.
ChartRow = tuple[str, str, str, str]

FRANCE: list[ChartRow] = [
    (Purpose.REVENUE, "", "706000", "Prestations de services"),
    (Purpose.REVENUE, "AE", "706200", "Prestations de services UE (autoliquidation)"),
    (Purpose.REVENUE, "O", "706300", "Prestations de services hors champ"),
    (Purpose.OUTPUT_VAT, "", "445710", "TVA collectée"),
    (Purpose.RECEIVABLE, "", "411000", "Clients"),
    (Purpose.CREDIT_HELD, "", "419100", "Clients - avances et acomptes reçus"),
    (Purpose.REFUNDS_PAYABLE, "", "467100", "Remboursements clients à payer"),
    (Purpose.BANK, "", "512000", "Banque"),
    (Purpose.BANK, "card", "511200", "Cartes bancaires à encaisser"),
    (Purpose.BANK, "cash", "530000", "Caisse"),
    (Purpose.SETTLED_OUTSIDE, "", "467800", "Règlements clients hors système"),
    (Purpose.ROUNDING, "", "658000", "Écarts d'arrondi et de change"),
]

NETHERLANDS: list[ChartRow] = [
    (Purpose.REVENUE, "", "8000", "Omzet diensten hoog tarief (RGS WOmzNodOdh)"),
    (Purpose.REVENUE, "AE", "8100", "Omzet diensten EU verlegd (RGS WOmzNodOdg)"),
    (Purpose.REVENUE, "O", "8200", "Omzet diensten buiten EU (RGS WOmzNodOdg)"),
    (Purpose.OUTPUT_VAT, "", "1500", "Af te dragen btw hoog tarief (RGS BSchBepBtwOla)"),
    (Purpose.OUTPUT_VAT, "S:9.00", "1510", "Af te dragen btw laag tarief (RGS BSchBepBtwOlt)"),
    (Purpose.RECEIVABLE, "", "1300", "Debiteuren (RGS BVorDebHad)"),
    (Purpose.CREDIT_HELD, "", "1310", "Vooruitontvangen van klanten (RGS BSchOvs)"),
    (Purpose.REFUNDS_PAYABLE, "", "1320", "Terug te betalen aan klanten (RGS BSchOvs)"),
    (Purpose.BANK, "", "1100", "Bank (RGS BLimBanRba)"),
    (Purpose.BANK, "card", "1110", "Kaartbetalingen onderweg (RGS BLimKruSto)"),
    (Purpose.BANK, "cash", "1000", "Kas (RGS BLimKasKas)"),
    (Purpose.SETTLED_OUTSIDE, "", "1330", "Buiten het systeem verrekend (RGS BLimKru)"),
    (Purpose.ROUNDING, "", "4990", "Afrondings- en koersverschillen (RGS WBedAdlBet)"),
]
RGS_CODE = re.compile(r"\(RGS ([BW][A-Z][a-z]{2}[A-Za-z0-9]*)\)\s*$")


def rgs_code(label: str) -> str:
    """The RGS reference code a label ends with, as "(RGS BLimBanRba)"; "" if none."""
    match = RGS_CODE.search(label)
    return match.group(1) if match else ""


GERMANY: list[ChartRow] = [
    (Purpose.REVENUE, "", "8400", "Erlöse 19 % USt"),
    (Purpose.REVENUE, "AE", "8337", "Erlöse aus Leistungen nach § 13b UStG"),
    (Purpose.REVENUE, "O", "8338", "Erlöse aus im Drittland steuerbaren Leistungen"),
    (Purpose.OUTPUT_VAT, "", "1776", "Umsatzsteuer 19 %"),
    (Purpose.OUTPUT_VAT, "S:7.00", "1771", "Umsatzsteuer 7 %"),
    (Purpose.RECEIVABLE, "", "1400", "Forderungen aus Lieferungen und Leistungen"),
    (Purpose.CREDIT_HELD, "", "1718", "Erhaltene Anzahlungen"),
    (Purpose.REFUNDS_PAYABLE, "", "1790", "Rückzahlungen an Kunden"),
    (Purpose.BANK, "", "1200", "Bank"),
    (Purpose.BANK, "card", "1360", "Geldtransit"),
    (Purpose.BANK, "cash", "1000", "Kasse"),
    (Purpose.SETTLED_OUTSIDE, "", "1590", "Durchlaufende Posten"),
    (Purpose.ROUNDING, "", "2150", "Aufwendungen aus Kursdifferenzen"),
]

XERO_UK: list[ChartRow] = [
    (Purpose.REVENUE, "", "200", "Sales"),
    (Purpose.REVENUE, "AE", "201", "Sales - EU reverse charge"),
    (Purpose.REVENUE, "O", "202", "Sales - outside the scope of VAT"),
    (Purpose.OUTPUT_VAT, "", "820", "VAT"),
    (Purpose.RECEIVABLE, "", "610", "Accounts Receivable"),
    (Purpose.CREDIT_HELD, "", "835", "Customer credit held"),
    (Purpose.REFUNDS_PAYABLE, "", "836", "Refunds payable"),
    (Purpose.BANK, "", "090", "Business Bank Account"),
    (Purpose.BANK, "card", "091", "Card receipts clearing"),
    (Purpose.BANK, "cash", "092", "Cash"),
    (Purpose.SETTLED_OUTSIDE, "", "837", "Settled outside"),
    (Purpose.ROUNDING, "", "860", "Rounding"),
]

CHARTS = {"FR": FRANCE, "NL": NETHERLANDS, "DE": GERMANY, "GB": XERO_UK}


def default_chart(country: str) -> list[ChartRow]:
    """The default accounts for a location in ``country`` (Xero's UK chart elsewhere)."""
    return CHARTS.get(country, XERO_UK)
