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


def dates_follow_numbers(*, table: str, document: str) -> pgtrigger.Trigger:
    """Refuse a numbered row whose date is before its predecessor's or after its
    successor's in its location's series: a later number never has an earlier date.

    Only the neighbours are read (two index lookups), so the series stays in date order by
    induction whatever its length.
    """
    return pgtrigger.Trigger(
        name="dates_follow_numbers",
        operation=pgtrigger.Insert | pgtrigger.Update,
        when=pgtrigger.Before,
        func=pgtrigger.Func(
            f"""
            IF NEW.sequence_number IS NULL OR NEW.issue_date IS NULL THEN RETURN NEW; END IF;
            IF TG_OP = 'UPDATE'
                AND OLD.sequence_number IS NOT DISTINCT FROM NEW.sequence_number
                AND OLD.issue_date IS NOT DISTINCT FROM NEW.issue_date THEN
                RETURN NEW;
            END IF;
            IF EXISTS (
                SELECT 1 FROM {table}
                WHERE location_id = NEW.location_id AND (
                    (sequence_number = NEW.sequence_number - 1 AND issue_date > NEW.issue_date)
                    OR (sequence_number = NEW.sequence_number + 1 AND issue_date < NEW.issue_date)
                )
            ) THEN
                RAISE EXCEPTION 'A {document} number cannot have an earlier date than the number before it'
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
            """
        ),
    )
