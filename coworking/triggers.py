"""Helpers to declare the database triggers that keep issued documents immutable."""

import functools
import operator

import pgtrigger
from django.db import migrations

# Raised by the project's own triggers: Django maps it to ``IntegrityError``.
REFUSED = "integrity_constraint_violation"


def any_changed(*fields: str) -> pgtrigger.Q:
    """A trigger condition true when any of ``fields`` changes in an UPDATE."""
    return functools.reduce(
        operator.or_,
        [pgtrigger.Q(**{f"old__{f}__df": pgtrigger.F(f"new__{f}")}) for f in fields],
    )


def no_truncate(model_label: str) -> pgtrigger.Trigger:
    """Refuse TRUNCATE of a table: it skips the row triggers that refuse DELETE, and
    ``TRUNCATE ... CASCADE`` reaches every table that references it."""
    return pgtrigger.Trigger(
        name=f"{model_label}_no_truncate",
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        func=(
            "RAISE EXCEPTION 'The % table holds issued documents and cannot be truncated', "
            f"TG_TABLE_NAME USING ERRCODE = '{REFUSED}'; RETURN NULL;"
        ),
    )


def append_only(model_label: str) -> list[pgtrigger.Trigger]:
    """Refuse every UPDATE, DELETE and TRUNCATE of rows of an append-only table."""
    return [
        pgtrigger.Protect(name=f"{model_label}_no_update", operation=pgtrigger.Update),
        pgtrigger.Protect(name=f"{model_label}_no_delete", operation=pgtrigger.Delete),
        no_truncate(model_label),
    ]


def postgres_sql(sql: str, reverse_sql: str) -> migrations.RunPython:
    """A migration operation running raw SQL on PostgreSQL only (the embedded SQLite
    default has no triggers), for the triggers pgtrigger cannot declare on a model: those
    on another app's table."""

    def run(sql_text):
        def operation(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql_text, params=None)

        return operation

    return migrations.RunPython(run(sql), run(reverse_sql))


def numbers_used_by(*, series_prefix: str, table: str) -> migrations.RunPython:
    """A migration operation installing a check, deferred to commit, that every number taken
    from a series named ``<series_prefix>:<location id>`` (django-sequences' counter row) is
    the ``sequence_number`` of a row of ``table`` at that location: a number is taken only
    by the transaction that writes its document, so a bare counter UPDATE cannot leave a
    gap."""
    name = f"{table}_number_in_use"
    create = f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (
                SELECT 1 FROM {table}
                WHERE location_id = split_part(NEW.name, ':', 2)::bigint
                    AND sequence_number = NEW.last
            ) THEN
                RAISE EXCEPTION 'Number % of series % was taken but no document has it',
                    NEW.last, NEW.name USING ERRCODE = '{REFUSED}';
            END IF;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER {name}
            AFTER INSERT OR UPDATE ON sequences_sequence DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.name LIKE '{series_prefix}:%')
            EXECUTE FUNCTION {name}();
    """
    drop = f"DROP TRIGGER {name} ON sequences_sequence; DROP FUNCTION {name}();"
    return postgres_sql(create, drop)


def location_prefix_fixed_once_used(*, prefix: str, table: str) -> migrations.RunPython:
    """A migration operation refusing an UPDATE of a location's ``prefix`` column once a
    numbered row of ``table`` belongs to the location: its numbers carry the prefix, and a
    new prefix could collide with another series or break the location's numbering."""
    name = f"location_{prefix}_fixed_by_{table}"
    create = f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM {table} WHERE location_id = OLD.id AND number <> '') THEN
                RAISE EXCEPTION 'The {prefix} of location % is printed on its documents and cannot change',
                    OLD.id USING ERRCODE = '{REFUSED}';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER {name}
            BEFORE UPDATE OF {prefix} ON coworking_location
            FOR EACH ROW WHEN (OLD.{prefix} IS DISTINCT FROM NEW.{prefix})
            EXECUTE FUNCTION {name}();
    """
    drop = f"DROP TRIGGER {name} ON coworking_location; DROP FUNCTION {name}();"
    return postgres_sql(create, drop)


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
