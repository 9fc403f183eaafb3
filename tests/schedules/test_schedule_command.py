"""`manage.py schedule ...` in this process, through the command line's own path (argument
parsing and exit codes included), as tests/runs/test_runflow_command.py runs runflow."""

import io
import json
import subprocess
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from flows.models import Flow
from schedules import editing
from schedules.management.commands.schedule import Command
from schedules.models import Schedule, Tick
from tests.commands import command_line
from tests.factories import EXAMPLE, make_flow

pytestmark = pytest.mark.django_db

LIST_KEYS = {
    "id",
    "flow",
    "cron",
    "tz",
    "enabled",
    "overlap",
    "catch_up",
    "next_due",
    "last_outcome",
    "deadline",
}
TICK_KEYS = {"schedule", "due", "outcome", "run_id", "detail"}


@pytest.fixture
def cli(monkeypatch):
    return command_line(monkeypatch, Command, "schedule")


@pytest.fixture
def nightly():
    return make_flow("nightly", *EXAMPLE)


def refusal(result: subprocess.CompletedProcess) -> str:
    """The one-line reason of a refused command, after checking its exit code."""
    assert result.returncode == 2, result
    return result.stderr.strip().splitlines()[-1]


def add_schedule(
    flow: Flow, cron_text: str = "30 2 * * *", tz_name: str = "Europe/Berlin", **fields
) -> Schedule:
    return editing.create(flow, cron_text=cron_text, tz_name=tz_name, **fields)


def add_tick(schedule: Schedule, due: datetime, outcome: str = "fired", **fields) -> Tick:
    return Tick.objects.create(
        schedule_id=schedule.pk, flow_id=schedule.flow_id, due=due, outcome=outcome, **fields
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# add


def test_add_prints_the_new_id_and_the_next_three_due_times_in_the_schedules_zone(cli, nightly):
    result = cli("add", "nightly", "30 2 * * *", "--tz", "Europe/Berlin")

    assert result.returncode == 0, result.stderr
    first, *due = result.stdout.splitlines()
    schedule = Schedule.objects.get()
    assert first == f"schedule {schedule.pk} added: flow 'nightly', 30 2 * * * in Europe/Berlin"
    assert len(due) == 3
    assert due[0].strip() == schedule.next_due.astimezone(ZoneInfo("Europe/Berlin")).isoformat()


def test_add_stores_the_cron_zone_and_defaults(cli, nightly, settings):
    settings.TIME_ZONE = "America/New_York"

    cli("add", "nightly", "@hourly")

    schedule = Schedule.objects.get()
    assert (schedule.flow_id, schedule.cron, schedule.timezone) == (nightly.pk, "@hourly", "America/New_York")
    assert (schedule.overlap, schedule.catch_up, schedule.catch_up_limit) == ("allow", "skip", 10)
    assert schedule.enabled and schedule.next_due is not None


def test_add_takes_input_json_overridden_by_input_pairs_as_runflow_does(cli, nightly):
    given = ["--input-json", '{"a": 1, "b": [1, 2]}', "--input", "a=2", "--input", "c=x"]

    cli("add", "nightly", "@daily", *given)

    assert Schedule.objects.get().input == {"a": 2, "b": [1, 2], "c": "x"}


def test_add_takes_overlap_catch_up_limit_and_note(cli, nightly):
    options = "--overlap skip_if_running --catch-up all --catch-up-limit 3 --note export"

    cli("add", "nightly", "@daily", *options.split())

    schedule = Schedule.objects.get()
    assert (schedule.overlap, schedule.catch_up, schedule.catch_up_limit) == ("skip_if_running", "all", 3)
    assert schedule.note == "export"


def test_add_takes_a_deadline_and_list_json_gives_it(cli, nightly):
    cli("add", "nightly", "@daily", "--tz", "Europe/Berlin", "--deadline", "06:00")

    [listed] = json.loads(cli("list", "--json").stdout)

    assert Schedule.objects.get().deadline == time(6, 0)
    assert listed["deadline"] == "06:00"


def test_add_with_a_bad_deadline_is_refused_with_exit_2_and_a_reason(cli, nightly):
    result = cli("add", "nightly", "@daily", "--deadline", "25:00")

    assert refusal(result) == "schedule add: the deadline '25:00' is not a time of day (00:00 to 23:59)"
    assert not Schedule.objects.exists()


def test_add_to_a_disabled_flow_creates_the_schedule_and_says_its_ticks_are_refused(cli):
    make_flow("off", *EXAMPLE, enabled=False)

    result = cli("add", "off", "@daily")

    assert result.returncode == 0
    assert Schedule.objects.count() == 1
    assert "flow 'off' is disabled: its ticks are refused until it is enabled" in result.stderr


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("nope", "@daily"), "schedule add: flow 'nope' not found"),
        (("nightly", "61 * * * *"), "schedule add: invalid cron expression '61 * * * *': Bad minute"),
        (("nightly", "@fortnightly"), "schedule add: unknown macro '@fortnightly'"),
        (("nightly", "@daily", "--tz", "Mars/Olympus"), "schedule add: unknown time zone 'Mars/Olympus'"),
        (("nightly", "@daily", "--input", "x"), "schedule add: --input 'x' is not key=value"),
        (("nightly", "@daily", "--input-json", "[1]"), "schedule add: --input-json must be a JSON object"),
        (("nightly", "@daily", "--input-json", "{"), "schedule add: --input-json is not valid JSON"),
        (("nightly", "@daily", "--overlap", "never"), "argument --overlap: invalid choice: 'never'"),
        (
            ("nightly", "@daily", "--catch-up-limit", "0"),
            "argument --catch-up-limit: must be between 1 and 1000",
        ),
        (("nightly", "@daily", "--note", "x" * 501), "schedule add: the note is longer than 500 characters"),
    ],
)
def test_add_with_bad_input_is_refused_with_exit_2_and_a_reason(cli, nightly, args, reason):
    result = cli("add", *args)

    assert reason in refusal(result)
    assert not Schedule.objects.exists()


def test_add_to_a_deleted_flow_is_refused(cli):
    make_flow("gone", *EXAMPLE, deleted=True)

    assert refusal(cli("add", "gone", "@daily")) == "schedule add: flow 'gone' is deleted"


def test_add_with_a_flow_name_that_is_not_utf8_is_refused(cli):
    assert refusal(cli("add", "caf\udce9", "@daily")) == "schedule add: the flow argument is not UTF-8 text"


# list


def test_list_json_gives_each_schedule_with_exactly_the_documented_keys(cli, nightly):
    schedule = add_schedule(
        nightly, "30 2 * * *", "Europe/Berlin", overlap="skip_if_running", catch_up="once"
    )

    [listed] = json.loads(cli("list", "--json").stdout)

    assert set(listed) == LIST_KEYS
    assert {k: v for k, v in listed.items() if k != "next_due"} == {
        "id": schedule.pk,
        "flow": "nightly",
        "cron": "30 2 * * *",
        "tz": "Europe/Berlin",
        "enabled": True,
        "overlap": "skip_if_running",
        "catch_up": "once",
        "last_outcome": None,
        "deadline": None,
    }


def test_list_json_next_due_is_three_times_with_the_zones_offset_from_the_stored_next_due(cli, nightly):
    schedule = add_schedule(nightly, "30 2 * * *", "Europe/Berlin")

    [listed] = json.loads(cli("list", "--json").stdout)

    berlin = ZoneInfo("Europe/Berlin")
    due = [datetime.fromisoformat(text) for text in listed["next_due"]]
    assert listed["next_due"] == [d.astimezone(berlin).isoformat() for d in due]
    assert due[0] == schedule.next_due
    assert len(due) == 3 and due[0] < due[1] < due[2]


def test_list_json_next_due_of_a_paused_schedule_is_empty(cli, nightly):
    editing.pause(add_schedule(nightly))

    [listed] = json.loads(cli("list", "--json").stdout)

    assert (listed["enabled"], listed["next_due"]) == (False, [])


def test_list_json_last_outcome_is_that_of_the_newest_tick(cli, nightly):
    schedule = add_schedule(nightly)
    add_tick(schedule, utc(2026, 3, 1, 1, 30), "fired")
    add_tick(schedule, utc(2026, 3, 3, 1, 30), "refused")
    add_tick(schedule, utc(2026, 3, 2, 1, 30), "missed")

    [listed] = json.loads(cli("list", "--json").stdout)

    assert listed["last_outcome"] == "refused"


def test_list_json_flow_is_null_for_a_flow_gone_from_wf_flow(cli, nightly):
    add_schedule(nightly)
    Flow.all_objects.filter(pk=nightly.pk).delete()

    [listed] = json.loads(cli("list", "--json").stdout)

    assert listed["flow"] is None


def test_list_json_flow_is_the_flows_current_name_after_a_rename(cli, nightly):
    add_schedule(nightly)
    Flow.all_objects.filter(pk=nightly.pk).update(flow_name="nightly-v2")

    [listed] = json.loads(cli("list", "--json").stdout)

    assert listed["flow"] == "nightly-v2"


def test_list_json_of_no_schedules_is_an_empty_list(cli):
    assert json.loads(cli("list", "--json").stdout) == []


def test_list_prints_a_table_with_a_row_per_schedule(cli, nightly):
    shown = add_schedule(nightly, "30 2 * * *", "Europe/Berlin")
    editing.pause(add_schedule(nightly, "@hourly", "UTC"))

    header, first, second = cli("list").stdout.splitlines()

    assert header.split() == [
        "ID",
        "FLOW",
        "CRON",
        "ZONE",
        "STATE",
        "OVERLAP",
        "CATCH-UP",
        "NEXT",
        "DUE",
        "LAST",
    ]
    assert first.split()[:5] == [str(shown.pk), "nightly", "30", "2", "*"]
    assert shown.next_due.astimezone(ZoneInfo("Europe/Berlin")).isoformat() in first
    assert "paused" in second


# ticks


def test_ticks_json_gives_the_ledger_newest_first_with_exactly_the_documented_keys(cli, nightly):
    schedule = add_schedule(nightly, tz_name="Europe/Berlin")
    add_tick(schedule, utc(2026, 3, 29, 1, 0), "fired", run_id=7)
    add_tick(schedule, utc(2026, 3, 30, 0, 30), "skipped", run_id=7, detail="skipped: run 7 is still active")
    add_tick(schedule, utc(2026, 3, 28, 1, 30), "missed", detail="missed while no scheduler ran")

    ticks = json.loads(cli("ticks", "--json").stdout)

    assert all(set(tick) == TICK_KEYS for tick in ticks)
    assert ticks[0] == {
        "schedule": schedule.pk,
        "due": "2026-03-30T02:30:00+02:00",
        "outcome": "skipped",
        "run_id": 7,
        "detail": "skipped: run 7 is still active",
    }
    assert [t["due"] for t in ticks[1:]] == ["2026-03-29T03:00:00+02:00", "2026-03-28T02:30:00+01:00"]
    assert ticks[2]["run_id"] is None


def test_ticks_of_the_same_due_time_are_newest_id_first(cli, nightly):
    one, other = add_schedule(nightly), add_schedule(nightly)
    add_tick(one, utc(2026, 3, 1, 1, 30))
    add_tick(other, utc(2026, 3, 1, 1, 30))

    ticks = json.loads(cli("ticks", "--json").stdout)

    assert [t["schedule"] for t in ticks] == [other.pk, one.pk]


def test_ticks_of_one_schedule_leave_out_the_others(cli, nightly):
    one, other = add_schedule(nightly), add_schedule(nightly)
    add_tick(one, utc(2026, 3, 1, 1, 30))
    add_tick(other, utc(2026, 3, 2, 1, 30))

    ticks = json.loads(cli("ticks", str(one.pk), "--json").stdout)

    assert [t["schedule"] for t in ticks] == [one.pk]


def test_ticks_limit_keeps_the_newest(cli, nightly):
    schedule = add_schedule(nightly, tz_name="UTC")
    for day in (1, 2, 3):
        add_tick(schedule, utc(2026, 3, day, 2, 30))

    ticks = json.loads(cli("ticks", "--limit", "2", "--json").stdout)

    assert [t["due"] for t in ticks] == ["2026-03-03T02:30:00+00:00", "2026-03-02T02:30:00+00:00"]


def test_ticks_of_a_removed_schedule_are_still_shown(cli, nightly):
    schedule = add_schedule(nightly)
    add_tick(schedule, utc(2026, 3, 1, 1, 30))
    editing.remove(schedule)

    result = cli("ticks", str(schedule.pk), "--json")

    assert result.returncode == 0
    assert [t["schedule"] for t in json.loads(result.stdout)] == [schedule.pk]


def test_ticks_prints_a_table_with_a_row_per_tick(cli, nightly):
    schedule = add_schedule(nightly, tz_name="UTC")
    add_tick(schedule, utc(2026, 3, 1, 2, 30), "refused", detail="flow 'nightly' is disabled")

    header, row = cli("ticks").stdout.splitlines()

    assert header.split() == ["DUE", "SCHEDULE", "OUTCOME", "RUN", "DETAIL"]
    assert row.split()[:4] == ["2026-03-01T02:30:00+00:00", str(schedule.pk), "refused", "-"]
    assert row.endswith("flow 'nightly' is disabled")


def test_ticks_of_an_unknown_schedule_is_refused(cli):
    assert refusal(cli("ticks", "999")) == "schedule ticks: no schedule 999"


# preview


@pytest.mark.parametrize(
    ("cron_text", "tz_name", "start", "due", "notes"),
    [
        pytest.param(
            "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00",
            ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"],
            ["29 Mar: 02:30 does not exist in Europe/Berlin (clocks go forward), runs at 03:00"],
            id="berlin-spring-fixed",
        ),
        pytest.param(
            "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00",
            ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00"],
            ["25 Oct: 02:30 happens twice in Europe/Berlin (clocks go back), runs once, at the first (CEST)"],
            id="berlin-autumn-fixed",
        ),
        pytest.param(
            "0 * * * *", "Europe/Berlin", "2026-03-29T00:30",
            ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"],
            ["29 Mar: 02:00 does not exist in Europe/Berlin (clocks go forward): not run"],
            id="berlin-spring-hourly",
        ),
        pytest.param(
            "0 * * * *", "Europe/Berlin", "2026-10-25T01:30",
            ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"],
            ["25 Oct: 02:00 happens twice in Europe/Berlin (clocks go back), runs at each (CEST)",
             "25 Oct: 02:00 happens twice in Europe/Berlin (clocks go back), runs at each (CET)"],
            id="berlin-autumn-hourly",
        ),
        pytest.param(
            "30 2 * * *", "America/New_York", "2026-03-07T12:00",
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"],
            ["8 Mar: 02:30 does not exist in America/New_York (clocks go forward), runs at 03:00"],
            id="new-york-spring-fixed",
        ),
        pytest.param(
            "30 1 * * *", "America/New_York", "2026-10-31T12:00",
            ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00"],
            ["1 Nov: 01:30 happens twice in America/New_York (clocks go back), runs once, at the first "
             "(EDT)"],
            id="new-york-autumn-fixed",
        ),
        pytest.param(
            "0 * * * *", "America/New_York", "2026-03-08T00:30",
            ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"],
            ["8 Mar: 02:00 does not exist in America/New_York (clocks go forward): not run"],
            id="new-york-spring-hourly",
        ),
        pytest.param(
            "0 * * * *", "America/New_York", "2026-11-01T00:30",
            ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"],
            ["1 Nov: 01:00 happens twice in America/New_York (clocks go back), runs at each (EDT)",
             "1 Nov: 01:00 happens twice in America/New_York (clocks go back), runs at each (EST)"],
            id="new-york-autumn-hourly",
        ),
    ],
)  # fmt: skip
def test_preview_json_across_the_dst_changes_of_2026(cli, cron_text, tz_name, start, due, notes):
    result = cli("preview", cron_text, "--tz", tz_name, "--from", start, "--count", "3", "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"due": due, "notes": notes}


def test_preview_from_with_an_offset_is_that_instant_whatever_the_zone(cli):
    options = ["--tz", "Europe/Berlin", "--from", "2026-06-01T12:00Z", "--count", "1", "--json"]

    result = cli("preview", "0 * * * *", *options)

    assert json.loads(result.stdout)["due"] == ["2026-06-01T15:00:00+02:00"]


def test_preview_from_without_an_offset_is_wall_clock_time_in_time_zone_by_default(cli, settings):
    settings.TIME_ZONE = "America/New_York"

    result = cli("preview", "0 * * * *", "--from", "2026-06-01T12:00", "--count", "1", "--json")

    assert json.loads(result.stdout)["due"] == ["2026-06-01T13:00:00-04:00"]


def test_preview_is_strictly_after_from(cli):
    result = cli(
        "preview", "30 2 * * *", "--tz", "UTC", "--from", "2026-06-01T02:30", "--count", "1", "--json"
    )

    assert json.loads(result.stdout)["due"] == ["2026-06-02T02:30:00+00:00"]


def test_preview_gives_five_due_times_after_now_by_default(cli):
    before = datetime.now(UTC)

    due = [datetime.fromisoformat(d) for d in json.loads(cli("preview", "* * * * *", "--json").stdout)["due"]]

    assert len(due) == 5
    assert before < due[0] <= before + timedelta(minutes=1)


def test_preview_prints_each_due_time_with_its_note(cli):
    result = cli(
        "preview", "30 2 * * *", "--tz", "Europe/Berlin", "--from", "2026-03-28T12:00", "--count", "2"
    )

    assert result.stdout.splitlines() == [
        "  2026-03-29T03:00:00+02:00  "
        "29 Mar: 02:30 does not exist in Europe/Berlin (clocks go forward), runs at 03:00",
        "  2026-03-30T02:30:00+02:00",
    ]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("61 * * * *",), "schedule preview: invalid cron expression '61 * * * *': Bad minute"),
        (("@reboot",), "schedule preview: @reboot is not a schedule: it has no due times"),
        (("@daily", "--tz", "Europe/Nowhere"), "schedule preview: unknown time zone 'Europe/Nowhere'"),
        (("@daily", "--from", "tomorrow"), "schedule preview: --from 'tomorrow' is not an ISO-8601 time"),
        (
            ("@daily", "--from", "0001-01-01T00:00+01:00"),
            "schedule preview: --from must be in a year from 1900",
        ),
        (("@daily", "--count", "0"), "argument --count: must be between 1 and 1000, got 0"),
        (("@daily", "--count", "1001"), "argument --count: must be between 1 and 1000, got 1001"),
    ],
)
def test_preview_with_bad_input_is_refused_with_exit_2_and_a_reason(cli, args, reason):
    assert reason in refusal(cli("preview", *args))


# pause, resume, remove


def test_pause_stops_the_schedule_and_prints_one_line(cli, nightly):
    schedule = add_schedule(nightly)

    result = cli("pause", str(schedule.pk))

    assert result.stdout == f"schedule {schedule.pk} paused\n"
    schedule.refresh_from_db()
    assert (schedule.enabled, schedule.next_due) == (False, None)


def test_resume_restarts_the_schedule_from_its_next_due_time_and_prints_it(cli, nightly):
    schedule = editing.pause(add_schedule(nightly, tz_name="Europe/Berlin"))

    result = cli("resume", str(schedule.pk))

    schedule.refresh_from_db()
    assert schedule.enabled and schedule.next_due > datetime.now(UTC)
    shown = schedule.next_due.astimezone(ZoneInfo("Europe/Berlin")).isoformat()
    assert result.stdout == f"schedule {schedule.pk} resumed; next due {shown}\n"


def test_remove_deletes_the_schedule_and_keeps_its_ledger(cli, nightly):
    schedule = add_schedule(nightly)
    add_tick(schedule, utc(2026, 3, 1, 1, 30))

    result = cli("remove", str(schedule.pk))

    assert result.stdout == f"schedule {schedule.pk} removed; its 1 ledger row(s) are kept\n"
    assert not Schedule.objects.exists()
    assert Tick.objects.filter(schedule_id=schedule.pk).count() == 1


@pytest.mark.parametrize("action", ["pause", "resume", "remove"])
def test_an_unknown_schedule_id_is_refused(cli, action):
    assert refusal(cli(action, "999")) == f"schedule {action}: no schedule 999"


@pytest.mark.parametrize("action", ["pause", "resume", "remove", "ticks"])
def test_an_id_that_is_not_a_number_is_refused(cli, action):
    assert "argument ID: 'seven' is not a whole number" in refusal(cli(action, "seven"))


def test_a_missing_action_is_refused(cli):
    assert "the following arguments are required: ACTION" in refusal(cli())


# import-crontab

CRONTAB = """\
# m h dom mon dow command
MAILTO=ops@example.com
CRON_TZ=Europe/Berlin
30 2 * * * cd /srv && venv/bin/python manage.py runflow nightly --input a=1 --input-json '{"b": 2}' >>log 2>&1
@hourly /srv/wf/manage.py runflow nightly --concurrency skip_if_running --queue
*/5 * * * * /usr/local/bin/backup.sh > /dev/null

CRON_TZ=America/New_York
0 3 * * mon-fri python manage.py runflow nightly
"""

BAD_LINES = """\
0 3 * * * python manage.py runflow nope
0 4 * * * python manage.py runflow nightly --check
@reboot python manage.py runflow nightly
61 * * * * python manage.py runflow nightly
0 5 * * * python manage.py runflow nightly --input x
CRON_TZ=Mars/Olympus
0 6 * * * python manage.py runflow nightly
"""


@pytest.fixture
def crontab_file(tmp_path):
    def write(text: str):
        path = tmp_path / "crontab"
        path.write_text(text)
        return str(path)

    return write


def imported() -> list[tuple]:
    fields = ("flow_id", "cron", "timezone", "input", "overlap", "note")
    return list(Schedule.objects.order_by("id").values_list(*fields))


def test_import_turns_each_runflow_line_into_a_schedule_in_its_cron_tz(cli, nightly, crontab_file):
    result = cli("import-crontab", crontab_file(CRONTAB))

    assert result.returncode == 0, result.stderr
    assert imported() == [
        (
            nightly.pk,
            "30 2 * * *",
            "Europe/Berlin",
            {"a": 1, "b": 2},
            "allow",
            "imported from crontab line 4",
        ),
        (nightly.pk, "@hourly", "Europe/Berlin", {}, "skip_if_running", "imported from crontab line 5"),
        (nightly.pk, "0 3 * * mon-fri", "America/New_York", {}, "allow", "imported from crontab line 9"),
    ]


def test_import_reports_every_line_with_its_number(cli, nightly, crontab_file):
    lines = cli("import-crontab", crontab_file(CRONTAB)).stdout.splitlines()

    ids = list(Schedule.objects.order_by("id").values_list("id", flat=True))
    assert lines == [
        "line 2: note: MAILTO is ignored (only CRON_TZ and TZ are kept)",
        "line 3: note: CRON_TZ=Europe/Berlin applies to the lines below",
        f"line 4: added: schedule {ids[0]}: flow 'nightly', 30 2 * * * in Europe/Berlin, "
        'input {"b": 2, "a": 1}',
        f"line 5: added: schedule {ids[1]}: flow 'nightly', @hourly in Europe/Berlin, "
        "overlap skip_if_running",
        "line 6: skipped: not a `manage.py runflow` call",
        "line 8: note: CRON_TZ=America/New_York applies to the lines below",
        f"line 9: added: schedule {ids[2]}: flow 'nightly', 0 3 * * mon-fri in America/New_York",
        "3 added, 1 skipped",
    ]


def test_import_without_a_zone_setting_uses_time_zone(cli, nightly, crontab_file, settings):
    settings.TIME_ZONE = "Asia/Tokyo"

    cli("import-crontab", crontab_file("0 3 * * * python manage.py runflow nightly\n"))

    assert Schedule.objects.get().timezone == "Asia/Tokyo"


def test_import_keeps_the_flows_default_overlap_when_the_line_has_no_concurrency(
    cli, nightly, crontab_file, settings
):
    settings.WORKFLOW_SKIP_IF_RUNNING = ["nightly"]

    cli("import-crontab", crontab_file("0 3 * * * python manage.py runflow nightly\n"))

    assert Schedule.objects.get().overlap == "skip_if_running"


def test_import_lists_each_runflow_line_it_could_not_convert_with_the_reason(cli, nightly, crontab_file):
    result = cli("import-crontab", crontab_file(BAD_LINES))

    assert result.stdout.splitlines() == [
        "line 1: failed: flow 'nope' not found",
        "line 2: failed: runflow --check only validates the flow; it runs nothing",
        "line 3: failed: @reboot is not convertible: it has no due times",
        "line 4: failed: invalid cron expression '61 * * * *': Bad minute",
        "line 5: failed: --input 'x' is not key=value",
        "line 6: note: CRON_TZ=Mars/Olympus applies to the lines below",
        "line 7: failed: unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Berlin)",
        "6 failed",
    ]


def test_import_with_a_failed_runflow_line_exits_2_and_still_adds_the_others(cli, nightly, crontab_file):
    result = cli("import-crontab", crontab_file(CRONTAB + "0 3 * * * python manage.py runflow nope\n"))

    assert refusal(result) == "schedule import-crontab: 1 runflow line could not be converted (line 10)"
    assert len(imported()) == 3


def test_import_with_only_non_runflow_lines_exits_0(cli, crontab_file):
    result = cli("import-crontab", crontab_file("MAILTO=x\n*/5 * * * * /usr/local/bin/backup.sh\n"))

    assert result.returncode == 0
    assert result.stdout.splitlines()[-1] == "1 skipped"


def test_import_dry_run_prints_what_it_would_add_and_creates_nothing(cli, nightly, crontab_file):
    result = cli("import-crontab", crontab_file(CRONTAB), "--dry-run")

    assert result.returncode == 0
    assert "line 4: would add: flow 'nightly', 30 2 * * * in Europe/Berlin" in result.stdout
    assert result.stdout.splitlines()[-1] == "3 would add, 1 skipped (dry run: nothing saved)"
    assert not Schedule.objects.exists()


def test_importing_the_same_file_twice_adds_nothing_the_second_time(cli, nightly, crontab_file):
    path = crontab_file(CRONTAB)
    cli("import-crontab", path)
    first = imported()

    result = cli("import-crontab", path)

    assert result.returncode == 0
    assert imported() == first
    assert result.stdout.splitlines()[-1] == "3 already scheduled, 1 skipped"
    assert f"line 4: already scheduled: schedule {Schedule.objects.first().pk} has the same" in result.stdout


def test_import_counts_a_macro_and_its_five_fields_as_the_same_schedule(cli, nightly, crontab_file):
    add_schedule(nightly, "0 * * * *", "UTC")

    cli("import-crontab", crontab_file("CRON_TZ=UTC\n@hourly python manage.py runflow nightly\n"))

    assert Schedule.objects.count() == 1


def test_import_counts_a_repeated_line_of_the_file_once(cli, nightly, crontab_file):
    line = "0 3 * * * python manage.py runflow nightly\n"

    result = cli("import-crontab", crontab_file(line + line))

    assert "line 2: already scheduled: line 1 has the same flow, cron, zone and input" in result.stdout
    assert Schedule.objects.count() == 1


def test_import_tells_a_different_input_from_the_same_one(cli, nightly, crontab_file):
    add_schedule(nightly, "0 3 * * *", "UTC", input={"n": 1})

    cli(
        "import-crontab",
        crontab_file("CRON_TZ=UTC\n0 3 * * * python manage.py runflow nightly --input n=true\n"),
    )

    assert Schedule.objects.count() == 2


def test_import_of_a_file_that_cannot_be_read_is_refused(cli, tmp_path):
    reason = refusal(cli("import-crontab", str(tmp_path / "missing")))

    assert reason == f"schedule import-crontab: cannot read {tmp_path / 'missing'}: No such file or directory"


def test_import_of_a_file_that_is_not_utf8_is_refused(cli, tmp_path):
    path = tmp_path / "crontab"
    path.write_bytes(b"0 3 * * * python manage.py runflow caf\xe9\n")

    assert (
        refusal(cli("import-crontab", str(path)))
        == f"schedule import-crontab: cannot read {path}: not UTF-8 text (byte 38)"
    )


# called from code


def test_call_command_lists_schedules_as_json(nightly):
    add_schedule(nightly)
    out = io.StringIO()

    call_command("schedule", "list", "--json", stdout=out)

    assert [listed["flow"] for listed in json.loads(out.getvalue())] == ["nightly"]
