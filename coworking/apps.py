from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoworkingConfig(AppConfig):
    name = "coworking"
    verbose_name = _("Accounts")

    def ready(self):
        from coworking.documents import checks  # noqa: F401  (registers the system checks)
