"""The project's admin site (Django's, through ``coworking.apps.AdminConfig``).

Every model admin registered on it checks the ids of an action's selection before Django
filters on them: a selection posted with a non-integer id used to be a 500 for any action
(Django's ``delete_selected`` included); now it is an error message and nothing is done.
"""

from django.contrib import admin, messages
from django.contrib.admin import apps as admin_apps
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _


class CheckedSelection:
    """``ModelAdmin.response_action`` that refuses ids the primary key cannot take."""

    def response_action(self, request, queryset):
        primary_key = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                primary_key.to_python(value)
        except ValidationError:
            self.message_user(
                request, _("The selection is not valid; nothing was done."), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, CheckedSelection):
            admin_class = type(
                admin_class.__name__,
                (CheckedSelection, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with this site (``INSTALLED_APPS`` names it instead of
    ``django.contrib.admin``)."""

    default_site = "coworking.admin_site.AdminSite"
