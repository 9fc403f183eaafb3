"""Due times as Debian cron (and cronsim) give them, daylight-saving changes of 2026 included."""

from datetime import datetime

import pytest

from schedules.cron import CronError, fields_of, next_due, preview, zone

BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")


def due(expr: str, tz, start: str, count: int) -> list[str]:
    return [d.at.isoformat() for d in preview(expr, tz, datetime.fromisoformat(start), count)]


@pytest.mark.parametrize(
    ("macro", "fields"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_macros_are_their_five_fields(macro, fields):
    assert fields_of(macro) == fields


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("", "empty"),
        ("* * * *", "five fields"),
        ("0 * * * * *", "five fields"),
        ("61 * * * *", "invalid"),
        ("@often", "unknown macro"),
        ("@reboot", "no due times"),
        ("x" * 300, "longer than"),
    ],
)
def test_bad_expressions_are_refused_with_a_reason(expr, reason):
    with pytest.raises(CronError, match=reason):
        fields_of(expr)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "UTC "])
def test_unknown_zones_are_refused(name):
    with pytest.raises(CronError, match="unknown time zone"):
        zone(name)


def test_a_fixed_time_in_the_spring_gap_runs_right_after_the_change_in_berlin():
    times = due("30 2 * * *", BERLIN, "2026-03-28T12:00+01:00", 3)

    assert times == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]


def test_a_fixed_time_in_the_spring_gap_runs_right_after_the_change_in_new_york():
    times = due("30 2 * * *", NEW_YORK, "2026-03-07T12:00-05:00", 2)

    assert times == ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]


def test_a_fixed_time_in_berlins_repeated_autumn_hour_runs_once():
    times = due("30 2 * * *", BERLIN, "2026-10-24T12:00+02:00", 3)

    assert times == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"]


def test_a_fixed_time_in_new_yorks_repeated_autumn_hour_runs_once_at_the_first():
    times = due("30 1 * * *", NEW_YORK, "2026-10-31T12:00-04:00", 2)

    assert times == ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]


def test_an_hourly_job_skips_the_missing_hour_in_spring():
    times = due("0 * * * *", BERLIN, "2026-03-29T00:30+01:00", 3)

    assert times == ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]


def test_an_hourly_job_runs_in_both_occurrences_of_the_repeated_hour():
    times = due("0 * * * *", NEW_YORK, "2026-11-01T00:30-04:00", 3)

    assert times == ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]


def test_an_hourly_job_in_berlin_runs_every_real_hour_across_the_autumn_change():
    times = due("0 * * * *", BERLIN, "2026-10-25T01:30+02:00", 3)

    assert times == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"]


def test_a_moved_time_is_explained_in_words():
    [moved] = preview("30 2 * * *", BERLIN, datetime.fromisoformat("2026-03-28T12:00+01:00"), 1)

    assert moved.note == "29 Mar: 02:30 does not exist in Europe/Berlin (clocks go forward), runs at 03:00"


def test_a_time_in_a_repeated_hour_says_it_runs_once():
    [first] = preview("30 1 * * *", NEW_YORK, datetime.fromisoformat("2026-10-31T12:00-04:00"), 1)

    assert "happens twice" in first.note and "runs once" in first.note


def test_ordinary_times_have_no_note():
    notes = [
        d.note for d in preview("30 2 * * *", BERLIN, datetime.fromisoformat("2026-06-01T00:00+02:00"), 5)
    ]

    assert notes == [""] * 5


def test_the_next_due_time_is_strictly_after_the_given_moment_in_utc():
    moment = datetime.fromisoformat("2026-06-01T10:00:00+00:00")

    assert next_due("0 * * * *", zone("UTC"), moment).isoformat() == "2026-06-01T11:00:00+00:00"


def test_restarting_inside_the_repeated_hour_does_not_give_a_time_already_passed():
    after_second_one = datetime.fromisoformat("2026-11-01T01:45:00-05:00")  # EST, the second 01:45

    assert next_due("30 1 * * *", NEW_YORK, after_second_one).isoformat() == "2026-11-02T06:30:00+00:00"


def test_a_date_that_never_comes_is_refused():
    with pytest.raises(CronError, match="day-of-month"):
        fields_of("0 0 30 2 *")
