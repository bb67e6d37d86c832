"""Helpers to declare the database triggers that keep issued documents immutable.

**Who may switch a guard off.** pgtrigger lets a transaction skip a trigger by naming it in
the ``pgtrigger.ignore`` setting, which any role can set. The project's triggers are declared
with ``Guard`` and ``GuardTrigger`` (pgtrigger's ``Protect`` and ``Trigger`` with another
installation template), whose test honours the setting only for a role with the privileges of
the table's owner (the migration role; the test teardown's flush), and refuses the statement
for any other role (``insufficient_privilege``). The application connects as a role that owns
nothing (``manage.py grant_app_role``), so it can neither use the setting nor ``ALTER TABLE
... DISABLE TRIGGER`` (owner only) nor ``session_replication_role`` (superuser only).
"""

import functools
import operator

import pgtrigger
from django.db import migrations
from pgtrigger import compiler

# Raised by the project's own triggers: Django maps it to ``IntegrityError``.
REFUSED = "integrity_constraint_violation"

# The function the project's triggers ask whether ``pgtrigger.ignore`` switches them off.
IGNORE_FUNCTION = '"public"."coworking_guard_ignored"'

# The ignore test reads the setting with ``missing_ok`` and enters an exception block (a
# subtransaction) only when the setting holds something to parse. PostgreSQL ends each failed
# subtransaction by scanning every deferred trigger event its transaction has queued, so a
# block entered for every guarded row would make each row cost in proportion to the
# transaction's size. ``test_the_installed_ignore_test_is_the_one_without_a_subtransaction``
# checks the function installed.
_GUARD_IGNORED_TEMPLATE = """
    CREATE OR REPLACE FUNCTION {ignore_func_name}(trigger_name NAME, table_oid OID)
    RETURNS BOOLEAN AS $$
        DECLARE
            _setting TEXT := pg_catalog.current_setting('pgtrigger.ignore', true);
            _pgtrigger_ignore TEXT[];
        BEGIN
            IF _setting IS NULL OR _setting = '' THEN
                RETURN FALSE;
            END IF;
            BEGIN
                _pgtrigger_ignore := _setting;
                EXCEPTION WHEN OTHERS THEN
            END;
            IF _pgtrigger_ignore IS NULL
                OR NOT (trigger_name = ANY(_pgtrigger_ignore)) THEN
                RETURN FALSE;
            END IF;
            IF pg_catalog.pg_has_role(
                current_user,
                (SELECT relowner FROM pg_catalog.pg_class WHERE oid = table_oid),
                'USAGE'
            ) THEN
                RETURN TRUE;
            END IF;
            RAISE EXCEPTION
                'Only the owner of % may switch its guard % off, not %',
                table_oid::regclass, trigger_name, current_user
                USING ERRCODE = 'insufficient_privilege';
        END;
    $$ LANGUAGE plpgsql;
"""
GUARD_IGNORED_SQL = _GUARD_IGNORED_TEMPLATE.format(ignore_func_name=IGNORE_FUNCTION)

# The trigger and its function, as pgtrigger's v1 template writes them, with the table's
# oid passed to the ignore test.
_GUARD_TRIGGER_TEMPLATE = """
            CREATE OR REPLACE FUNCTION {pgid}()
            RETURNS TRIGGER AS $$
                {declare}
                BEGIN
                    IF ({ignore_func_name}(TG_NAME, TG_RELID) IS TRUE) THEN
                        IF (TG_OP = 'DELETE') THEN
                            RETURN OLD;
                        ELSE
                            RETURN NEW;
                        END IF;
                    END IF;
                    {func}
                END;
            $$ LANGUAGE plpgsql;

            DROP TRIGGER IF EXISTS {pgid} ON {table};
            CREATE {constraint} TRIGGER {pgid}
                {when} {operation} ON {table}
                {timing}
                {referencing}
                FOR EACH {level} {condition}
                EXECUTE PROCEDURE {execute};

            COMMENT ON TRIGGER {pgid} ON {table} IS '{hash}';
        """


class GuardSqlV2(compiler.UpsertTriggerSql):
    """pgtrigger's installation SQL (its v1 template) with the owner-only ignore test.

    Migrations name this class and re-render the template when they run: change it only
    with a new class (and a migration that reinstalls the triggers with it).
    """

    def get_template(self) -> str:
        return _GUARD_IGNORED_TEMPLATE + _GUARD_TRIGGER_TEMPLATE

    def get_defaults(self, pgid: str) -> dict[str, str]:
        return {**super().get_defaults(pgid), "ignore_func_name": IGNORE_FUNCTION}


class OwnerOnlyIgnore:
    """Compile a pgtrigger trigger with ``GuardSqlV2`` (see the module docstring)."""

    def compile(self, model) -> compiler.Trigger:
        compiled = super().compile(model)
        kwargs = {**compiled.sql.kwargs, "ignore_func_name": IGNORE_FUNCTION}
        return compiler.Trigger(name=compiled.name, sql=GuardSqlV2(**kwargs))


class Guard(OwnerOnlyIgnore, pgtrigger.Protect):
    """``pgtrigger.Protect`` that only the table's owner can switch off."""


class GuardTrigger(OwnerOnlyIgnore, pgtrigger.Trigger):
    """``pgtrigger.Trigger`` that only the table's owner can switch off."""


def any_changed(*fields: str) -> pgtrigger.Q:
    """A trigger condition true when any of ``fields`` changes in an UPDATE."""
    return functools.reduce(
        operator.or_,
        [pgtrigger.Q(**{f"old__{f}__df": pgtrigger.F(f"new__{f}")}) for f in fields],
    )


def no_truncate(model_label: str) -> "GuardTrigger":
    """Refuse TRUNCATE of a table: it skips the row triggers that refuse DELETE, and
    ``TRUNCATE ... CASCADE`` reaches every table that references it."""
    return GuardTrigger(
        name=f"{model_label}_no_truncate",
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        func=(
            "RAISE EXCEPTION 'The % table holds records that are never emptied; it cannot be truncated', "
            f"TG_TABLE_NAME USING ERRCODE = '{REFUSED}'; RETURN NULL;"
        ),
    )


def append_only(model_label: str) -> list["GuardTrigger | Guard"]:
    """Refuse every UPDATE, DELETE and TRUNCATE of rows of an append-only table."""
    return [
        Guard(name=f"{model_label}_no_update", operation=pgtrigger.Update),
        Guard(name=f"{model_label}_no_delete", operation=pgtrigger.Delete),
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


def dates_follow_numbers(*, table: str, document: str) -> "GuardTrigger":
    """Refuse a numbered row whose date is before its predecessor's or after its
    successor's in its location's series: a later number never has an earlier date.

    Only the neighbours are read, so the series stays in date order by induction whatever
    its length: each by its own equality on ``(location_id, sequence_number)``, which the
    unique index answers whatever the statistics say (one query ORing both could be planned
    as a scan of the location's rows, as it was on a few rows' statistics).
    """
    return GuardTrigger(
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
                WHERE location_id = NEW.location_id
                    AND sequence_number = NEW.sequence_number - 1
                    AND issue_date > NEW.issue_date
            ) OR EXISTS (
                SELECT 1 FROM {table}
                WHERE location_id = NEW.location_id
                    AND sequence_number = NEW.sequence_number + 1
                    AND issue_date < NEW.issue_date
            ) THEN
                RAISE EXCEPTION 'A {document} number cannot have an earlier date than the number before it'
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
            """
        ),
    )


def pdf_fixed_once_recorded() -> Guard:
    """Refuse changing a document's stored PDF (its file name or its SHA-256) once one is
    recorded: the PDF sent to the customer is the document, and another document's file
    would otherwise be served (and e-mailed) in its place. A re-render of an unchanged
    document records the same bytes under the same name, which changes nothing."""
    return Guard(
        name="pdf_fixed_once_recorded",
        operation=pgtrigger.Update,
        condition=~pgtrigger.Q(old__pdf_sha256="") & any_changed("pdf_file", "pdf_sha256"),
    )
