"""The books' endpoints under ``/api/v1/`` (included by ``config.api_urls``)."""

from django.urls import path

from books.api.views import JournalExportView

urlpatterns = [path("journal/export", JournalExportView.as_view(), name="journal-export")]
