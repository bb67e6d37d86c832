"""Locations, customers and the customer ledger.

The ledger is append-only: one signed entry per event that changes what a customer owes,
in the currency of its source document (positive = debit, the customer owes more: an invoice,
account credit refunded or settled outside; negative = credit: a payment, a credit note). A customer's balance per currency is always the sum of its entries, computed by
a selector, never a stored running total. The database refuses UPDATE and DELETE of entries
(triggers below), and a constraint ties each kind to its sign; each document points at its
entry (the apps above hold that relation).
"""

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from sequences.models import Sequence

from coworking.addresses import PostalAddress, country_code_constraint
from coworking.banking.accounts import compact_iban
from coworking.banking.models import (
    BankAccount,  # noqa: F401  (registered here)
    iban_constraint,
    validate_iban,
)
from coworking.billable_items import BillableItem  # noqa: F401  (registered here)
from coworking.documents.models import PdfRenderRetry  # noqa: F401  (registered here)
from coworking.identifiers import (
    ELECTRONIC_ADDRESS_SCHEMES,
    electronic_address_error,
    legal_registration_scheme,
    registration_id_error,
    siren_error,
    siret_error,
    vat_id_error,
)
from coworking.l10n import human_number
from coworking.ledger import CustomerBalance, LedgerEntry  # noqa: F401  (registered here)
from coworking.money import CURRENCY_CHOICES
from coworking.text import single_line, single_line_constraint
from coworking.triggers import REFUSED, Guard, GuardTrigger, no_truncate

# What reaches an e-mail header or is printed on a document: one line each (coworking.text).
_ADDRESS = ("street_line1", "street_line2", "street_line3", "postcode", "city")
LOCATION_SINGLE_LINE = (
    "name", "legal_name", "tax_id", "registration_id", "siret", "rcs_city", "legal_form",
    "early_payment_discount", "invoice_prefix", "credit_note_prefix", "electronic_address", *_ADDRESS,
)  # fmt: skip
CUSTOMER_SINGLE_LINE = (
    "billing_name", "billing_email", "tax_id", "registration_id", "buyer_reference",
    "electronic_address", *_ADDRESS,
)  # fmt: skip


# What a French company's documents must state beyond name, address and VAT id
# (Code de commerce R123-237).
FRENCH_LOCATION_REQUIRED = ("registration_id", "siret", "rcs_city", "legal_form", "share_capital")


class ElectronicAddress(models.Model):
    """Where a party receives e-invoices (EN 16931 BT-34/BT-49): a Peppol participant id
    with its scheme (EAS code), e.g. ``0208`` + ``0123456789`` for a Belgian company."""

    electronic_address_scheme = models.CharField(
        _("e-invoicing address scheme"),
        max_length=4,
        blank=True,
        choices=ELECTRONIC_ADDRESS_SCHEMES,
        help_text=_("The Peppol EAS code of the address, e.g. 0208 (BE), 0106 (NL KvK)."),
    )
    electronic_address = models.CharField(
        _("e-invoicing address"),
        max_length=100,
        blank=True,
        help_text=_("The Peppol participant identifier, without its scheme."),
        validators=[single_line],
    )

    class Meta:
        abstract = True

    def electronic_address_errors(self) -> dict:
        """The form errors of the address: a scheme and an id together, the id valid
        under its scheme (check digits where python-stdnum knows them)."""
        scheme, address = self.electronic_address_scheme, self.electronic_address
        if bool(scheme) != bool(address):
            field = "electronic_address" if scheme else "electronic_address_scheme"
            return {field: _("An e-invoicing address has a scheme and an identifier.")}
        if error := electronic_address_error(scheme, address):
            return {"electronic_address": error}
        return {}

    @staticmethod
    def electronic_address_constraint(prefix: str) -> models.CheckConstraint:
        return models.CheckConstraint(
            condition=Q(electronic_address_scheme="", electronic_address="")
            | (~Q(electronic_address_scheme="") & ~Q(electronic_address="")),
            name=f"{prefix}_electronic_address_with_scheme",
        )


class Location(PostalAddress, ElectronicAddress):
    """A legal entity that issues documents; each has its own number series.

    What its documents must state: a full postal address with its country, its VAT id
    (``tax_id``), its legal registration id (e.g. KvK number, company number, SIREN) and,
    when it is French, its SIRET, RCS city, legal form and share capital (Code de
    commerce, R123-237). ``vat_currency`` is the currency its VAT returns are in: an
    invoice in another currency also states its VAT in it (VAT Directive Art. 230).
    """

    name = models.CharField(_("name"), max_length=100, validators=[single_line])
    legal_name = models.CharField(_("legal name"), max_length=200, validators=[single_line])
    tax_id = models.CharField(_("VAT id"), max_length=40, validators=[single_line])
    registration_id = models.CharField(
        _("legal registration id"),
        max_length=40,
        blank=True,
        help_text=_("Company register number (KvK, Companies House, SIREN in France…)."),
        validators=[single_line],
    )
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        blank=True,
        help_text=_("France: the establishment's SIRET."),
        validators=[single_line],
    )
    rcs_city = models.CharField(
        _("RCS city"),
        max_length=60,
        blank=True,
        help_text=_("France: the city of the trade register (RCS) the company is entered in."),
        validators=[single_line],
    )
    legal_form = models.CharField(
        _("legal form"),
        max_length=60,
        blank=True,
        help_text=_("E.g. SAS, B.V., Ltd."),
        validators=[single_line],
    )
    share_capital = models.DecimalField(
        _("share capital"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("In the location's VAT currency; printed on French documents."),
    )
    late_payment_rate = models.DecimalField(
        _("late-payment penalty rate (% a year)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "France: the penalty rate for late payment its business invoices state "
            "(at least three times the legal interest rate); empty: the statutory one, "
            "the ECB refinancing rate plus 10 points."
        ),
    )
    early_payment_discount = models.CharField(
        _("early-payment discount"),
        max_length=200,
        blank=True,
        help_text=_(
            "France: the discount granted for early payment, as business invoices state "
            "it; empty: none is granted."
        ),
        validators=[single_line],
    )
    vat_on_debits = models.BooleanField(
        _("VAT on debits"),
        default=False,
        help_text=_("France: the company opted to pay VAT on debits (invoices say so)."),
    )
    default_currency = models.CharField(
        _("default currency"), max_length=3, choices=CURRENCY_CHOICES
    )
    vat_currency = models.CharField(
        _("VAT currency"),
        max_length=3,
        choices=CURRENCY_CHOICES,
        help_text=_(
            "The currency of the VAT returns; invoices in another one also state "
            "their VAT in it, at the exchange rate of their issue date."
        ),
    )
    default_tax_rate = models.DecimalField(
        _("default tax rate (%)"), max_digits=5, decimal_places=2, default=0
    )
    invoice_prefix = models.CharField(
        _("invoice number prefix"), max_length=10, unique=True, validators=[single_line]
    )
    credit_note_prefix = models.CharField(
        _("credit note number prefix"),
        max_length=10,
        unique=True,
        validators=[single_line],
    )
    language = models.CharField(
        _("document language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of its documents and e-mails, unless a customer has its own."),
    )
    email_documents = models.BooleanField(
        _("e-mail documents to customers"),
        default=False,
        help_text=_("Send credit notes to the customer's billing e-mail once rendered."),
    )
    opted_to_tax = models.BooleanField(
        _("opted to tax its letting"),
        default=False,
        db_default=False,
        help_text=_(
            "The location chose to charge VAT on letting (VAT Directive Art. 137): "
            "letting is then standard rated, not exempt."
        ),
    )
    members_may_cancel = models.BooleanField(
        _("members may cancel unpaid invoices"),
        default=False,
        help_text=_("Allow portal users to cancel their own unpaid invoices through the API."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(invoice_prefix=models.F("credit_note_prefix")),
                name="location_prefixes_differ",
            ),
            models.CheckConstraint(
                condition=Q(default_tax_rate__gte=0, default_tax_rate__lt=100),
                name="location_tax_rate_range",
            ),
            country_code_constraint("location"),
            models.CheckConstraint(
                condition=Q(share_capital__isnull=True) | Q(share_capital__gte=0),
                name="location_share_capital_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(late_payment_rate__isnull=True) | Q(late_payment_rate__gte=0),
                name="location_late_payment_rate_not_negative",
            ),
            ElectronicAddress.electronic_address_constraint("location"),
            single_line_constraint(*LOCATION_SINGLE_LINE, name="location_texts_single_line"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        """The printed postal address."""
        return self.postal_address()

    @property
    def is_french(self) -> bool:
        return str(self.country) == "FR"

    @property
    def registration_scheme(self) -> str:
        """The ISO 6523 scheme of ``registration_id`` where one is known (SIREN 0002,
        KvK 0106, Belgian enterprise number 0208)."""
        return legal_registration_scheme(str(self.country), self.registration_id)

    def missing_for_documents(self) -> list[str]:
        """Labels of what documents need and this location lacks (empty when complete)."""
        required = ["street_line1", "postcode", "city", "country", "tax_id"]
        if self.is_french:
            required += [*FRENCH_LOCATION_REQUIRED]
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in required
            if getattr(self, name) in (None, "")
        ]

    def clean(self):
        errors = {}
        if error := vat_id_error(self.tax_id):
            errors["tax_id"] = error
        if self.is_french:
            for name in FRENCH_LOCATION_REQUIRED:
                if getattr(self, name) in (None, ""):
                    errors[name] = _("Required for a French company.")
            if self.registration_id and (error := siren_error(self.registration_id)):
                errors["registration_id"] = error
            if self.siret and (error := siret_error(self.siret, siren_number=self.registration_id)):
                errors["siret"] = error
        elif self.registration_id and (
            error := registration_id_error(str(self.country), self.registration_id)
        ):
            errors["registration_id"] = error
        errors.update(self.electronic_address_errors())
        try:
            self.clean_address(complete=True)
        except ValidationError as error:
            errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)


class Customer(PostalAddress, ElectronicAddress):
    """A member or a company billed by one location.

    The billing address needs at least its country (EN 16931 BT-55); street, postcode and
    city where the country's post uses them are asked by the admin form. ``tax_id`` is
    the customer's VAT id, required for reverse-charge lines. ``buyer_reference`` is what
    the customer asks to be quoted on its invoices (purchase order, cost centre,
    Leitweg-ID); invoices carry it unless they are given their own.
    """

    class Kind(models.TextChoices):
        MEMBER = "member", _("Member")
        COMPANY = "company", _("Company")

    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="customers", verbose_name=_("location")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    billing_name = models.CharField(_("billing name"), max_length=200, validators=[single_line])
    billing_email = models.EmailField(_("billing e-mail"))
    tax_id = models.CharField(_("VAT id"), max_length=40, blank=True, validators=[single_line])
    registration_id = models.CharField(
        _("legal registration id"),
        max_length=40,
        blank=True,
        help_text=_(
            "Company register number: SIREN or SIRET (France), KvK (Netherlands), "
            "enterprise number (Belgium), Handelsregister (Germany), company number (UK)."
        ),
        validators=[single_line],
    )
    buyer_reference = models.CharField(
        _("buyer reference"),
        max_length=100,
        blank=True,
        help_text=_("Quoted on every invoice unless the invoice has its own (e.g. a PO)."),
        validators=[single_line],
    )
    language = models.CharField(
        _("document language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text=_("The language of the customer's documents and e-mails; empty: the location's."),
    )
    iban = models.CharField(
        _("IBAN for refunds"),
        max_length=34,
        blank=True,
        help_text=_("The customer's account: a credit note that refunds says it goes there."),
        validators=[validate_iban],
    )
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer",
        verbose_name=_("portal user"),
    )

    class Meta:
        ordering = ["billing_name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["location", "billing_name"]),
            models.Index(fields=["billing_name"], name="customer_list_order"),
            models.Index(fields=["kind", "billing_name"], name="customer_kind"),
            models.Index(fields=["language", "billing_name"], name="customer_language"),
        ]
        constraints = [
            country_code_constraint("customer"),
            ElectronicAddress.electronic_address_constraint("customer"),
            single_line_constraint(*CUSTOMER_SINGLE_LINE, name="customer_texts_single_line"),
            iban_constraint("iban", name="customer_iban_shape"),
        ]

    def __str__(self) -> str:
        return self.billing_name

    @property
    def _needs_siren(self) -> bool:
        return (
            self.kind == self.Kind.COMPANY
            and str(self.country) == "FR"
            and self.location_id is not None
            and self.location.is_french
        )

    @property
    def billing_address(self) -> str:
        """The printed billing address."""
        return self.postal_address()

    def clean(self):
        errors = {}
        if not self.country:
            errors["country"] = _("Every invoice states the customer's country.")
        if self.tax_id and (error := vat_id_error(self.tax_id)):
            errors["tax_id"] = error
        if self.registration_id and (
            error := registration_id_error(str(self.country), self.registration_id)
        ):
            errors["registration_id"] = error
        elif self._needs_siren and not self.registration_id:
            errors["registration_id"] = _(
                "A French seller's invoices state a French company's SIREN."
            )
        errors.update(self.electronic_address_errors())
        self.iban = compact_iban(self.iban)
        try:
            self.clean_address(complete=self.kind == self.Kind.COMPANY)
        except ValidationError as error:
            errors.update(error.message_dict)
        if errors:
            raise ValidationError(errors)


class ExchangeRate(models.Model):
    """A rate staff record (e.g. the ECB's of the day) for stating the VAT of an invoice
    in its location's VAT currency; an invoice takes the latest one on or before its
    issue date and keeps it."""

    currency = models.CharField(_("from currency"), max_length=3, choices=CURRENCY_CHOICES)
    vat_currency = models.CharField(_("to currency"), max_length=3, choices=CURRENCY_CHOICES)
    date = models.DateField(_("date"))
    rate = models.DecimalField(
        _("rate"),
        max_digits=18,
        decimal_places=8,
        help_text=_("Units of the “to” currency for one unit of the “from” currency."),
    )
    source = models.CharField(_("source"), max_length=100, blank=True, help_text=_("E.g. ECB."))

    class Meta:
        ordering = ["-date", "currency", "vat_currency"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "vat_currency", "date"], name="exchange_rate_once_a_day"
            ),
            models.CheckConstraint(
                condition=~Q(currency=models.F("vat_currency")) & Q(rate__gt=0),
                name="exchange_rate_between_currencies",
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {human_number(self.rate)} {self.vat_currency} ({self.date})"


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key`` header.

    The row is written (status ``completed``) in the transaction of the request's work, so
    it commits with the work or not at all; while the work runs, the key is claimed by an
    advisory lock of that transaction. Keys are scoped per user and expire after 24 hours.
    See ``coworking.idempotency`` for the rules. (An ``in_progress`` row is a claim committed
    apart from its work; a new request with its key replaces it.)
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    # The response body exactly as JSON text (jsonb would reorder its keys).
    response_body = models.TextField(_("response body"), blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(response_status__isnull=False),
                name="idempotency_key_completed_has_response",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class NumberSeries(Sequence):
    """A gapless number series: django-sequences' counter row (see ``coworking.numbering``).

    The database keeps the counter honest: a series starts at 1 and only ever grows by one
    (an UPDATE that lowers, skips or renames it is refused, so is DELETE or TRUNCATE), and
    the apps that number documents check at commit that each number taken is used by a
    document written in the same transaction (triggers in the invoicing and credits
    migrations). A lowered counter would hand out a number again: every later document of
    the location would then fail on its unique number.
    """

    class Meta:
        proxy = True
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        triggers = [
            Guard(name="series_no_delete", operation=pgtrigger.Delete),
            no_truncate("series"),
            GuardTrigger(
                name="series_grows_by_one",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func=f"""
                    IF TG_OP = 'INSERT' THEN
                        IF NEW.last <> 1 THEN
                            RAISE EXCEPTION 'Number series % must start at 1, not %',
                                NEW.name, NEW.last USING ERRCODE = '{REFUSED}';
                        END IF;
                    ELSIF NEW.name <> OLD.name OR NEW.last <> OLD.last + 1 THEN
                        RAISE EXCEPTION 'Number series % may only grow by one (% to %)',
                            OLD.name, OLD.last, NEW.last USING ERRCODE = '{REFUSED}';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]
