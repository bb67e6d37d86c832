"""Texts of installed apps that the admin shows but that the app does not translate into one
of ``LANGUAGES`` (django-axes has no Dutch). Marked here, ``makemessages`` puts them in the
project's catalogs, which Django reads before an app's own; nothing imports this module."""

from django.utils.translation import gettext_noop

AXES_MODEL_NAMES = [
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
]
