"""The journal's invariants in the database: an entry balances at commit (a constraint
trigger deferred to commit, on its lines and on itself, so an entry without lines is refused
too), and no entry is dated in a closed period."""

from django.db import migrations

from coworking.triggers import REFUSED, postgres_sql

BALANCED = f"""
    CREATE FUNCTION books_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        entry bigint := (to_jsonb(NEW) ->> TG_ARGV[0])::bigint;
        debits numeric;
        credits numeric;
        legs integer;
    BEGIN
        SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0), count(*)
            INTO debits, credits, legs
            FROM books_journalline WHERE entry_id = entry;
        IF legs < 2 OR debits <> credits THEN
            RAISE EXCEPTION 'Journal entry % does not balance: % lines, debit %, credit %',
                entry, legs, debits, credits USING ERRCODE = '{REFUSED}';
        END IF;
        RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER books_line_entry_balanced
        AFTER INSERT ON books_journalline DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION books_entry_balanced('entry_id');
    CREATE CONSTRAINT TRIGGER books_entry_balanced
        AFTER INSERT ON books_journalentry DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION books_entry_balanced('id');
"""
BALANCED_DROP = """
    DROP TRIGGER books_line_entry_balanced ON books_journalline;
    DROP TRIGGER books_entry_balanced ON books_journalentry;
    DROP FUNCTION books_entry_balanced();
"""

OPEN_PERIOD = f"""
    CREATE FUNCTION books_entry_in_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        closed record;
    BEGIN
        SELECT start, "end" INTO closed FROM books_closedperiod
            WHERE location_id = NEW.location_id AND start <= NEW.date AND "end" >= NEW.date
            LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'The books are closed from % to %: no entry dated %',
                closed.start, closed."end", NEW.date USING ERRCODE = '{REFUSED}';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER books_entry_in_open_period
        BEFORE INSERT ON books_journalentry
        FOR EACH ROW EXECUTE FUNCTION books_entry_in_open_period();
"""
OPEN_PERIOD_DROP = """
    DROP TRIGGER books_entry_in_open_period ON books_journalentry;
    DROP FUNCTION books_entry_in_open_period();
"""


class Migration(migrations.Migration):
    dependencies = [("books", "0001_journal")]

    operations = [
        postgres_sql(BALANCED, BALANCED_DROP),
        postgres_sql(OPEN_PERIOD, OPEN_PERIOD_DROP),
    ]
