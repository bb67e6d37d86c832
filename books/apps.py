from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BooksConfig(AppConfig):
    name = "books"
    verbose_name = _("Books")

    def ready(self):
        from books import subscribers  # noqa: F401  (registers the event subscribers)
        from books.reconciliation import CHECKS
        from credits import reconciliation

        reconciliation.CHECKS.update(CHECKS)
