"""``{% load admin_dates %}{% indexed_date_hierarchy cl %}``: the admin's date hierarchy for
tables that grow with the business (invoices, credit notes).

Django's own reads ``MIN``/``MAX`` and ``DISTINCT DATE_TRUNC`` of the date over the list's
queryset on every page: with the list's filters and annotations (a ``LEFT JOIN``) no index
answers them, so each page reads the whole table. Here the only query is ``MIN``/``MAX`` of
the bare table, which PostgreSQL answers from the two ends of the date's index; the years,
months and days offered are the calendar between them. A link may therefore lead to an
empty period (a year without a document of the current filter), never hide a full one."""

import calendar
import datetime
from typing import cast

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.db.models import Max, Min

register = template.Library()


class _Calendar:
    """Stands in for the list's queryset in Django's ``date_hierarchy``: its ``aggregate``
    is the bare table's range, its ``dates`` the calendar inside it."""

    def __init__(self, model, field: str, params: dict):
        bounds = model._default_manager.aggregate(first=Min(field), last=Max(field))
        self.first, self.last = bounds["first"], bounds["last"]
        self.params = params
        self.field = field

    def aggregate(self, **_expressions) -> dict:
        return {"first": self.first, "last": self.last}

    def dates(self, _field: str, kind: str) -> list[datetime.date]:
        if self.first is None:
            return []
        if kind == "year":
            return [datetime.date(y, 1, 1) for y in range(self.first.year, self.last.year + 1)]
        year = int(self._param("year") or self.first.year)
        if kind == "month":
            days = [datetime.date(year, month, 1) for month in range(1, 13)]
            start = self.first.replace(day=1)
        else:
            month = int(self._param("month") or self.first.month)
            days = [
                datetime.date(year, month, day)
                for day in range(1, calendar.monthrange(year, month)[1] + 1)
            ]
            start = self.first
        return [day for day in days if start <= day <= self.last]

    def _param(self, part: str) -> str | None:
        return self.params.get(f"{self.field}__{part}")


class _ChangeListOnCalendar:
    """The change list as ``date_hierarchy`` reads it, its queryset the calendar."""

    def __init__(self, cl):
        self._cl = cl
        self.queryset = _Calendar(cl.model, cl.date_hierarchy, cl.params)

    def __getattr__(self, name):
        return getattr(self._cl, name)


def indexed_date_hierarchy(cl):
    try:
        return date_hierarchy(cast(ChangeList, _ChangeListOnCalendar(cl)))
    except ValueError:  # a year, month or day in the query string that is not one
        return {"show": False}


@register.tag(name="indexed_date_hierarchy")
def indexed_date_hierarchy_tag(parser, token):
    # As Django's own admin tags call it; django-stubs declares another signature.
    return InclusionAdminNode(  # type: ignore[call-arg]
        parser,
        token,
        func=indexed_date_hierarchy,
        template_name="date_hierarchy.html",
        takes_context=False,
    )
