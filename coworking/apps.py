from django.apps import AppConfig


class CoworkingConfig(AppConfig):
    name = "coworking"
    verbose_name = "Accounts"

    def ready(self):
        from coworking.documents import checks  # noqa: F401  (registers the system checks)
