"""Single-line texts: names, addresses, identifiers and references that end up in an
e-mail header (``From: Canal House B.V. <…>``), a PDF's heading or an e-invoice's field.

A line break there breaks the message (Django refuses the header with ``BadHeaderError``,
so the location's e-mails stop) and, once a document is issued, is frozen into it. Such
fields refuse every control character (line feed, carriage return, tab, the C0 and C1
controls) and the Unicode line and paragraph separators: by :data:`single_line` in forms,
``full_clean`` and the API, and by :func:`single_line_constraint` in the database.
"""

import re

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The same pattern for Python (validators; SQLite's REGEXP) and PostgreSQL (its ARE
# understands these escapes). NUL is left to Django's own validator: PostgreSQL text cannot
# hold it at all.
CONTROL_CHARACTERS = r"[\x01-\x1f\x7f-\x9f\u2028\u2029]"
_CONTROL = re.compile(CONTROL_CHARACTERS)


def is_single_line(text: str) -> bool:
    """Whether ``text`` holds no control character (see the module's docstring)."""
    return _CONTROL.search(str(text)) is None


# Stated as what a valid text is (not as an inverse match), so the OpenAPI schema's
# ``pattern`` (drf-spectacular copies it) describes valid values too.
single_line = RegexValidator(
    r"^[^\x01-\x1f\x7f-\x9f\u2028\u2029]*\Z",
    message=_("Enter one line: no line breaks, tabs or other control characters."),
    code="not_single_line",
)


def single_line_constraint(*fields: str, name: str) -> models.CheckConstraint:
    """A check that none of ``fields`` holds a control character."""
    condition = Q()
    for field in fields:
        condition &= ~Q(**{f"{field}__regex": CONTROL_CHARACTERS})
    return models.CheckConstraint(condition=condition, name=name)
