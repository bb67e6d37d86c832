"""The guards' ignore test costs the same in a small and a large transaction, and answers
as pgtrigger's own does (``coworking.triggers.GUARD_IGNORED_SQL``)."""

import time

import pytest
from django.db import connection

from coworking.triggers import GUARD_IGNORED_SQL

pytestmark = pytest.mark.django_db


def ignored(trigger: str, setting: str | None) -> bool:
    with connection.cursor() as cursor:
        if setting is not None:
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [setting])
        cursor.execute(
            "SELECT coworking_guard_ignored(%s, 'invoicing_invoice'::regclass)", [trigger]
        )
        return cursor.fetchone()[0]


def test_the_installed_ignore_test_is_the_one_without_a_subtransaction():
    """Every guard is installed with ``GuardSqlV2``, and each installation writes the
    shared ignore test again: one installed with another template would replace it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'coworking_guard_ignored'")
        (source,) = cursor.fetchone()
    assert source.split() == GUARD_IGNORED_SQL.split("$$")[1].split()


@pytest.mark.parametrize(
    ("setting", "answer"),
    [
        ("", False),
        ("not an array", False),
        ("{some_other_guard}", False),
        ("{issued_frozen,pgtrigger_issued_frozen_dbf30}", True),
    ],
)
def test_the_ignore_test_answers_for_the_owner_as_before(setting, answer):
    assert ignored("pgtrigger_issued_frozen_dbf30", setting) is answer


def test_the_ignore_test_does_not_slow_down_with_the_checks_a_transaction_defers():
    """A failing subtransaction makes PostgreSQL scan every queued deferred check, so the
    ignore test must not fail one per guarded row: with 100,000 checks queued, 1,000 guarded
    rows cost what they cost with none queued."""

    def thousand_calls() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM generate_series(1, 1000) "
                "WHERE coworking_guard_ignored('x', 'invoicing_invoice'::regclass)"
            )
        return time.perf_counter() - started

    alone = thousand_calls()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION pg_temp.nothing() RETURNS trigger LANGUAGE plpgsql
                AS $$ BEGIN RETURN NULL; END $$;
            CREATE TEMP TABLE queued (n int);
            CREATE CONSTRAINT TRIGGER queued_check AFTER INSERT ON queued
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.nothing();
            INSERT INTO queued SELECT generate_series(1, 100000);
            """
        )
    assert thousand_calls() < max(10 * alone, 0.1)
