"""The beat schedule's reconcile runs come from the operator's crontab settings: five fields,
nothing to turn a run off, anything else stops the process with a sentence."""

import pytest

from config.beat import beat_schedule


def schedule(incremental="30 2 * * *", full="30 3 * * 0"):
    return beat_schedule(
        bulk_sweep_every=60.0, reconcile_incremental=incremental, reconcile_full=full
    )


def test_both_reconcile_runs_are_scheduled_with_their_kind():
    runs = schedule()
    assert runs["credits.reconcile_incremental"]["kwargs"] == {"incremental": True}
    assert runs["credits.reconcile_full"]["kwargs"] == {"incremental": False}
    assert runs["credits.reconcile_full"]["schedule"].day_of_week == {0}


def test_an_empty_crontab_turns_that_run_off():
    runs = schedule(full=" ")
    assert "credits.reconcile_full" not in runs and "credits.reconcile_incremental" in runs


def test_a_crontab_that_is_not_five_fields_stops_with_a_sentence():
    with pytest.raises(SystemExit, match="RECONCILE_FULL_SCHEDULE is '1 2': give five crontab"):
        schedule(full="1 2")
