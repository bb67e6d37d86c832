from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BooksConfig(AppConfig):
    name = "books"
    verbose_name = _("Books")

    def ready(self):
        from books import reconciliation as books
        from books import subscribers  # noqa: F401  (registers the event subscribers)
        from credits import reconciliation

        reconciliation.CHECKS.update(books.CHECKS)
        reconciliation.DIMENSIONS.update(books.DIMENSIONS)
        reconciliation.WHOLE.update(books.WHOLE)
        reconciliation.HIGH_WATER.update(books.HIGH_WATER)
        reconciliation.CHANGED.update(books.CHANGED)
