from django.apps import AppConfig


class CoworkingConfig(AppConfig):
    name = "coworking"
    verbose_name = "Accounts"
