"""The abstract documents: what invoices and credit notes (and their lines) share.

A ``Document`` is in one currency and its total is its net plus its tax, to the cent: check
constraints hold both, named after the concrete model (``invoice_single_currency``,
``creditnote_single_currency``, ...). Its PDF is rendered once, stored in the private
"documents" storage and recorded with its SHA-256 and size; a ``ready`` PDF always has its
hash (a constraint too). The PDF bookkeeping (``PDF_FIELDS``) is the only part of an issued
document that may still change: the concrete models' immutability triggers leave it out, except
that a recorded PDF's file and SHA-256 never change (``pdf_fixed_once_recorded``).

Signs differ (an invoice is positive, a credit note negative), so each concrete model adds
its own sign constraints; numbering and parties stay on the concrete models too, whose
related names differ.
"""

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from coworking.money import CURRENCY_CHOICES, DECIMAL_PLACES, money_field, unit_price_field
from coworking.text import single_line


class PdfStatus(models.TextChoices):
    PENDING = "pending", _("PDF pending")
    READY = "ready", _("PDF ready")
    FAILED = "failed", _("PDF failed")


PDF_FIELDS = ("pdf_status", "pdf_file", "pdf_sha256", "pdf_size", "pdf_error", "pdf_rendered_at")


def private_documents_storage():
    """The "documents" storage (``settings.STORAGES``): private, never under public media."""
    from django.core.files.storage import storages

    return storages["documents"]


def pdf_folder(kind: str) -> str:
    """The storage folder of one kind of document's PDFs."""
    return f"{kind}s"


def pdf_upload_to(instance: "Document", filename: str) -> str:
    return f"{pdf_folder(instance.PDF_KIND)}/{filename}"


_other_pdf_folders: set[str] = set()


def register_pdf_folder(folder: str) -> None:
    """A folder of PDFs that are not documents (a prepared statement's), which an app
    above names here so the readiness probe checks it too."""
    _other_pdf_folders.add(folder)


def pdf_folders() -> list[str]:
    """Every folder PDFs are written to, one per concrete document model and each one
    registered: what the readiness probe must be able to write to."""
    from django.apps import apps

    return sorted(
        {
            pdf_folder(model.PDF_KIND)
            for model in apps.get_models()
            if issubclass(model, Document) and not model._meta.abstract
        }
        | _other_pdf_folders
    )


class VatRounding(models.TextChoices):
    """How a document's VAT was computed: each line rounded and summed (documents issued
    before the rule changed), or per rate from its taxable base, rounded once (EN 16931
    BR-CO-17; ``invoicing.calculations``). ``reconcile`` checks the rule on the latter."""

    PER_LINE = "line", _("per line, then summed")
    PER_DOCUMENT = "document", _("per rate, rounded once")


# An issued document states its seller and buyer from what it recorded at issue, never from
# the live location and customer: the database refuses one without them.
PARTIES_RECORDED = Q(seller__has_key="name", buyer__has_key="name")


class Document(models.Model):
    """An issued financial document: its money totals and its stored PDF (abstract).

    Concrete models set ``PDF_KIND`` (``invoice``, ``credit-note``: the PDF's identifier and,
    plural, its storage folder) and ``PDF_SWEEP_SINCE`` (the field from which a pending PDF
    counts as late).
    """

    PdfStatus = PdfStatus
    PDF_FIELDS = PDF_FIELDS
    PDF_KIND: ClassVar[str]
    PDF_SWEEP_SINCE: ClassVar[str]

    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    net_total = money_field(_("net total"))
    tax_total = money_field(_("tax total"))
    total = money_field(_("total"))
    vat_rounding = models.CharField(
        _("VAT rounding"),
        max_length=10,
        choices=VatRounding.choices,
        default=VatRounding.PER_DOCUMENT,
    )

    # The parties as they were when the document was issued (``coworking.einvoice.parties``:
    # name, address, VAT and registration ids, legal mentions): what the document states
    # never changes when a location moves or a customer edits its details. Every issued
    # document has both (``PARTIES_RECORDED``, a check constraint of each kind).
    seller = models.JSONField(_("seller, as issued"), default=dict, blank=True)
    buyer = models.JSONField(_("buyer, as issued"), default=dict, blank=True)

    pdf_status = models.CharField(
        _("PDF status"), max_length=10, choices=PdfStatus.choices, default=PdfStatus.PENDING
    )
    pdf_file = models.FileField(
        _("PDF"), storage=private_documents_storage, upload_to=pdf_upload_to, blank=True
    )
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(_("PDF size (bytes)"), null=True, blank=True)
    pdf_error = models.TextField(_("PDF error"), blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered at"), null=True, blank=True)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    net_total_currency=F("currency"),
                    tax_total_currency=F("currency"),
                    total_currency=F("currency"),
                ),
                name="%(class)s_single_currency",
            ),
            models.CheckConstraint(
                condition=Q(total=Round(F("net_total") + F("tax_total"), DECIMAL_PLACES)),
                name="%(class)s_total_is_net_plus_tax",
            ),
            models.CheckConstraint(
                condition=Q(pdf_status="ready", pdf_sha256__regex=r"^[0-9a-f]{64}$")
                | ~Q(pdf_status="ready"),
                name="%(class)s_ready_pdf_has_hash",
            ),
        ]

    @property
    def pdf_filename(self) -> str:
        """The name a download is offered under."""
        return f"{self.number}.pdf"

    @property
    def pdf_identifier(self) -> str:
        """Seeds the PDF's file identifier: the same document always gets the same one."""
        return f"{self.PDF_KIND}/{self.number}"

    def pdf_storage_name(self, *, sha256: str) -> str:
        """Where the PDF with this content is stored: its hash is in the name, so a
        re-render with other bytes never overwrites the file a download may be reading."""
        number = get_valid_filename(self.number)
        return f"{self.PDF_KIND}s/{self.issue_date.year}/{number}-{sha256[:16]}.pdf"


class DocumentLine(models.Model):
    """One line of a document (abstract), in one currency: its net is quantity × unit price
    rounded once; its tax is its share of the VAT of its rate, which is computed once per
    document from the rate's taxable base (``invoicing.calculations``)."""

    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("description"), max_length=200, validators=[single_line])
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    unit_price = unit_price_field(_("unit price"))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    net = money_field(_("net"))
    tax = money_field(_("tax"))

    class Meta:
        abstract = True
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price_currency=F("net_currency"), tax_currency=F("net_currency")),
                name="%(class)s_single_currency",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0, tax_rate__lt=100), name="%(class)s_tax_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def gross(self) -> Money:
        return self.net + self.tax


class PdfRenderRetry(models.Model):
    """When the sweep next tries a PDF that failed for good, and since when it has failed.

    A render fails for good after the task's short retries (``DOCUMENT_PDF_MAX_RETRIES``,
    minutes); a storage outage can last longer. The sweep then keeps trying with back-off
    (``DOCUMENT_PDF_SWEEP_RETRY_BACKOFF`` doubled each time, at most
    ``DOCUMENT_PDF_SWEEP_RETRY_BACKOFF_MAX``) for ``DOCUMENT_PDF_SWEEP_RETRY_FOR`` after the
    first failure; after that ``next_attempt_at`` is empty and the document waits for staff.
    Kept apart from the documents (whose rows are frozen once issued) and keyed by the
    document's kind and id, since this app cannot name the apps that own them; the row is
    deleted when the PDF is rendered.
    """

    kind = models.CharField(_("kind"), max_length=32)
    document_id = models.BigIntegerField(_("document id"))
    failures = models.PositiveIntegerField(_("failures"), default=0)
    first_failed_at = models.DateTimeField(_("first failed at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)

    class Meta:
        app_label = "coworking"
        verbose_name = _("PDF render retry")
        constraints = [
            models.UniqueConstraint(fields=["kind", "document_id"], name="pdf_render_retry_once")
        ]
        indexes = [models.Index(fields=["kind", "next_attempt_at"], name="pdf_retry_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.document_id}"
