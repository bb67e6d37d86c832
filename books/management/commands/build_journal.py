from django.core.management.base import BaseCommand

from books.services import journal_build


class Command(BaseCommand):
    help = (
        "Post the journal entries of documents, payments and refunds recorded before the "
        "books existed (oldest first); what is already posted is skipped."
    )

    def handle(self, *args, **options):
        count = journal_build()
        self.stdout.write(f"{count} events posted to the journal.")
