"""A customer statement too long to render within a request, prepared by a task.

The row is the request and its state (``pending`` → ``ready`` or ``failed``), so any web
process can show it and its page polls it; the PDF lives in the private "documents"
storage and is served only through the admin's download view. A row is ``ready`` exactly
when it has its file (a constraint): a failed or interrupted render leaves no file behind.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coworking.documents.models import private_documents_storage, register_pdf_folder
from coworking.models import Customer

STATEMENTS_FOLDER = "statements"
register_pdf_folder(STATEMENTS_FOLDER)


class PreparedStatement(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    pdf_file = models.FileField(
        _("PDF"), storage=private_documents_storage, max_length=255, blank=True
    )
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("prepared statement")
        verbose_name_plural = _("prepared statements")
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="ready") & ~Q(pdf_file=""))
                | (~Q(status="ready") & Q(pdf_file="")),
                name="prepared_statement_file_iff_ready",
            ),
            models.CheckConstraint(
                condition=Q(start__lte=models.F("end")), name="prepared_statement_period"
            ),
        ]

    def __str__(self) -> str:
        return _("Statement #%(id)s") % {"id": self.pk}
