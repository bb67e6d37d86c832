"""Helpers to declare the database triggers that keep issued documents immutable."""

import functools
import operator

import pgtrigger


def any_changed(*fields: str) -> pgtrigger.Q:
    """A trigger condition true when any of ``fields`` changes in an UPDATE."""
    return functools.reduce(
        operator.or_,
        [pgtrigger.Q(**{f"old__{f}__df": pgtrigger.F(f"new__{f}")}) for f in fields],
    )


def append_only(model_label: str) -> list[pgtrigger.Protect]:
    """Refuse every UPDATE and DELETE of rows of an append-only table."""
    return [
        pgtrigger.Protect(name=f"{model_label}_no_update", operation=pgtrigger.Update),
        pgtrigger.Protect(name=f"{model_label}_no_delete", operation=pgtrigger.Delete),
    ]


def changed_except(*columns: str) -> str:
    """SQL for a trigger condition: true when an UPDATE changes any column but ``columns``
    (so columns added later are covered without listing them)."""
    names = ", ".join(f"'{column}'" for column in columns)
    return (
        f"(to_jsonb(OLD) - ARRAY[{names}]::text[]) "
        f"IS DISTINCT FROM (to_jsonb(NEW) - ARRAY[{names}]::text[])"
    )
