from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self):
        # Subscribing here keeps the dependency pointing from webhooks to the services that
        # announce, never the other way round.
        from webhooks import outbox

        outbox.subscribe_to_events()
