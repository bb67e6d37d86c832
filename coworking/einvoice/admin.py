"""E-invoice downloads on admin pages (invoices, credit notes): one URL per document and
syntax, for staff who may view the document, and a field with the links."""

from django.contrib import messages
from django.contrib.admin import display
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from coworking.einvoice.document import Syntax
from coworking.einvoice.syntax import file_name, xml_attachment
from coworking.errors import ApplicationError


class EInvoiceDownloads:
    """A ``ModelAdmin`` mixin: ``<id>/einvoice/<syntax>/`` serves ``einvoice_xml(obj,
    syntax)`` as an attachment; the ``einvoice_links`` field links both syntaxes."""

    def einvoice_xml(self, obj, syntax: str) -> bytes:
        raise NotImplementedError

    def has_einvoice(self, obj) -> bool:
        return True

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/einvoice/<str:syntax>/",
                self.admin_site.admin_view(self.einvoice_view),
                name="{}_{}_einvoice".format(*info),
            ),
            *super().get_urls(),
        ]

    def einvoice_view(self, request, object_id, syntax):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("No such document."))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        try:
            return xml_attachment(self.einvoice_xml(obj, syntax), number=obj.number, syntax=syntax)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.WARNING)
            info = self.opts.app_label, self.opts.model_name
            return redirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))

    @display(description=_("e-invoice"))
    def einvoice_links(self, obj):
        if obj is None or obj.pk is None or not self.has_einvoice(obj):
            return "-"
        info = self.opts.app_label, self.opts.model_name
        return format_html_join(
            " · ",
            '<a href="{}" download="{}">{}</a>',
            (
                (
                    reverse("admin:{}_{}_einvoice".format(*info), args=[obj.pk, syntax]),
                    file_name(obj.number, syntax=syntax),
                    label,
                )
                for syntax, label in Syntax.choices
            ),
        )
