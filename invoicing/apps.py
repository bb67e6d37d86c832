from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = _("Finance")

    def ready(self):
        from invoicing import registrations

        registrations.register()
