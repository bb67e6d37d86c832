"""For the customer's account page: the statements prepared in the background (too long for
a request, ``invoicing.services.statements``), their page, the JSON it polls and the
download, each for staff who may view the customer only.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from coworking.admin import AdminMixinBase
from coworking.errors import ApplicationError
from invoicing.prepared_statements import PreparedStatement
from invoicing.services.statements import statement_failed, statement_request

# A statement still pending this long after it was asked for lost its worker: its page
# offers to try again.
STATEMENT_STALLED_AFTER = datetime.timedelta(minutes=15)


def statement_name(customer) -> str:
    """The customer's name as a file name reads it (``Café Noir B.V.`` → ``cafe-noir-bv``):
    what staff recognise in their downloads, unlike the internal id; ASCII letters, digits
    and hyphens only, so it is safe in a header. A name with no such letter (all in another
    script) falls back to ``customer-<id>``."""
    return slugify(customer.billing_name)[:60].strip("-") or f"customer-{customer.pk}"


def statement_filename(customer, start: datetime.date, end: datetime.date) -> str:
    return f"statement-{statement_name(customer)}-{start.isoformat()}-{end.isoformat()}.pdf"


class PreparedStatementMixin(AdminMixinBase):
    """The customer admin's views of statements prepared in the background."""

    prepared_statement_template = "admin/coworking/customer/prepared_statement.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/statements/<int:statement_id>/",
                view(self.prepared_statement_view),
                name="coworking_customer_prepared_statement",
            ),
            path(
                "<path:object_id>/statements/<int:statement_id>/status.json",
                view(self.prepared_statement_status_view),
                name="coworking_customer_prepared_statement_status",
            ),
            path(
                "<path:object_id>/statements/<int:statement_id>/download/",
                view(self.prepared_statement_download_view),
                name="coworking_customer_prepared_statement_download",
            ),
            *super().get_urls(),
        ]

    def _prepared(self, request, object_id, statement_id) -> PreparedStatement:
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404(_("No such customer."))
        if not self.has_view_permission(request, customer):
            raise PermissionDenied
        statement = get_object_or_404(
            PreparedStatement.objects.select_related("requested_by"),
            pk=statement_id,
            customer=customer,
        )
        statement.customer = customer
        return statement

    def prepared_statement_url(self, statement: PreparedStatement) -> str:
        return reverse(
            "admin:coworking_customer_prepared_statement",
            args=[statement.customer_id, statement.pk],
        )

    @staticmethod
    def _stalled(statement: PreparedStatement) -> bool:
        return (
            statement.status == PreparedStatement.Status.PENDING
            and timezone.now() - statement.created_at > STATEMENT_STALLED_AFTER
        )

    def prepared_statement_view(self, request, object_id, statement_id):
        """The statement's page: being prepared (polling its status), ready (the download)
        or failed (the reason). POST on a failed or stalled one asks for it again."""
        statement = self._prepared(request, object_id, statement_id)
        if request.method == "POST":
            Status = PreparedStatement.Status
            if statement.status == Status.FAILED or self._stalled(statement):
                statement_failed(statement_id=statement.pk, error=_("Stopped waiting for it."))
                try:
                    statement = statement_request(
                        customer=statement.customer,
                        start=statement.start,
                        end=statement.end,
                        actor=request.user,
                    )
                except ApplicationError as error:
                    self.message_user(request, error.message, messages.ERROR)
            return redirect(self.prepared_statement_url(statement))
        customer = statement.customer
        context = {
            **self.admin_site.each_context(request),
            "title": _("Statement of %(customer)s") % {"customer": customer},
            "subtitle": None,
            "opts": self.opts,
            "original": customer,
            "statement": statement,
            "language": dict(settings.LANGUAGES).get(statement.language, statement.language),
            "stalled": self._stalled(statement),
            "status_url": reverse(
                "admin:coworking_customer_prepared_statement_status",
                args=[customer.pk, statement.pk],
            ),
            "download_url": self._download_url(statement),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.prepared_statement_template, context)

    @staticmethod
    def _download_url(statement: PreparedStatement) -> str:
        return reverse(
            "admin:coworking_customer_prepared_statement_download",
            args=[statement.customer_id, statement.pk],
        )

    def prepared_statement_status_view(self, request, object_id, statement_id):
        """JSON for the statement's page: its status, and the reason when it failed."""
        statement = self._prepared(request, object_id, statement_id)
        return JsonResponse(
            {
                "status": statement.status,
                "status_label": statement.get_status_display(),
                "finished": statement.status != PreparedStatement.Status.PENDING,
                "error": statement.error,
                "stalled": self._stalled(statement),
            }
        )

    def prepared_statement_download_view(self, request, object_id, statement_id):
        """The prepared PDF as a download; 404 until it is ready."""
        statement = self._prepared(request, object_id, statement_id)
        if statement.status != PreparedStatement.Status.READY:
            raise Http404(_("This statement is not ready."))
        try:
            stored = statement.pdf_file.storage.open(str(statement.pdf_file.name), "rb")
        except OSError as error:
            raise Http404(_("The stored PDF is missing or damaged.")) from error
        return FileResponse(
            stored,
            as_attachment=True,
            filename=statement_filename(statement.customer, statement.start, statement.end),
            content_type="application/pdf",
        )
