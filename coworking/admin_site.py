"""The project's admin site (Django's, through ``coworking.apps.AdminConfig``).

Every model admin registered on it checks the ids of an action's selection before Django
filters on them: a selection posted with a non-integer id gets an error message and nothing
is done, for every action (Django's ``delete_selected`` included), where Django itself would
fail on the lookup.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import apps as admin_apps
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The admin home in the order of a finance person's day: the documents and accounts first,
# the place's set-up next, then the remaining apps, and the machinery last under "System".
# Which models each section holds is the project's choice (``settings.ADMIN_SECTIONS``,
# "app_label.model_name" per section key: this app names no app above it); a registered
# model named nowhere keeps its app's group (between the sections and "System"), so a new
# admin never disappears.
SECTIONS = [
    ("finance", gettext_lazy("Finance")),
    ("setup", gettext_lazy("Locations and rates")),
]
SYSTEM_SECTION = ("system", gettext_lazy("System"))
SYSTEM_APPS = ["authtoken", "axes", "sequences"]


def section_models(key: str) -> list[str]:
    return list(getattr(settings, "ADMIN_SECTIONS", {}).get(key, []))


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

    def get_app_list(self, request, app_label=None):
        """The home page and the side bar in sections (``SECTIONS``), Finance first and
        "System" last; an app's own page (``app_label``) keeps Django's grouping, which its
        breadcrumbs link to."""
        app_list = super().get_app_list(request, app_label)
        if app_label:
            return app_list
        models = {}
        for app in app_list:
            for model in app["models"]:
                models[f"{app['app_label']}.{model['object_name'].lower()}"] = model
        sections = []
        for key, name in SECTIONS:
            listed = [models.pop(n) for n in section_models(key) if n in models]
            if listed:
                sections.append(self._section(key, name, listed))
        system = [models.pop(n) for n in section_models(SYSTEM_SECTION[0]) if n in models]
        for app in app_list:
            prefix = f"{app['app_label']}."
            left = [m for m in app["models"] if models.get(prefix + m["object_name"].lower())]
            if not left:
                continue
            if app["app_label"] in SYSTEM_APPS:
                system.extend(left)
            else:
                sections.append({**app, "models": left})
        if system:
            sections.append(self._section(*SYSTEM_SECTION, system))
        return sections

    @staticmethod
    def _section(key, name, models):
        # The caption links to the section's first list, which is then the current one.
        return {
            "name": str(name),
            "app_label": key,
            "app_url": models[0]["admin_url"],
            "has_module_perms": True,
            "models": models,
        }


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with this site (``INSTALLED_APPS`` names it instead of
    ``django.contrib.admin``)."""

    default_site = "coworking.admin_site.AdminSite"
