"""Reading crontab lines for `schedule import-crontab` (schedules.management.crontab): pure text."""

import pytest

from schedules.management.crontab import Job, Refusal, Remark, read, runflow_call


def only(text: str):
    [item] = list(read(text))
    return item


def test_a_runflow_line_becomes_a_job_with_its_cron_and_options():
    line = "30 2 * * * python manage.py runflow nightly --input a=1 --input-json '{\"b\": [1, 2]}'"

    assert only(line) == Job(1, "30 2 * * *", None, "nightly", ["a=1"], '{"b": [1, 2]}', None)


def test_a_macro_line_keeps_the_macro_as_its_cron():
    assert only("@daily ./manage.py runflow nightly").cron == "@daily"


def test_a_prefix_joined_by_and_and_output_redirections_are_left_out():
    command = "cd /srv/wf && .venv/bin/python manage.py runflow nightly --input a=1 >> /var/log/wf.log 2>&1"

    assert runflow_call(command) == {
        "flow": "nightly",
        "pairs": ["a=1"],
        "input_json": None,
        "concurrency": None,
    }


def test_output_piped_to_another_command_is_left_out():
    assert runflow_call("python manage.py runflow nightly 2>&1 | logger -t wf")["flow"] == "nightly"


def test_concurrency_option_is_kept():
    assert runflow_call("python manage.py runflow x --concurrency skip_if_running")["concurrency"] == (
        "skip_if_running"
    )


def test_queue_and_json_options_are_accepted():
    assert runflow_call("python manage.py runflow x --queue --json")["flow"] == "x"


def test_an_escaped_percent_is_a_percent():
    assert runflow_call(r"python manage.py runflow x --input 'rate=5\%'")["pairs"] == ["rate=5%"]


def test_a_command_without_runflow_is_not_a_call():
    assert runflow_call("/usr/local/bin/backup.sh --all > /dev/null") is None


def test_a_line_that_is_not_a_runflow_call_is_skipped():
    assert only("*/5 * * * * /usr/local/bin/backup.sh") == Remark(
        1, "skipped", "not a `manage.py runflow` call"
    )


def test_comments_and_blank_lines_yield_nothing():
    assert list(read("# m h dom mon dow command\n\n   \n  # indented comment\n")) == []


def test_cron_tz_applies_to_the_lines_below_it():
    items = list(read("0 1 * * * manage.py runflow a\nCRON_TZ=Europe/Berlin\n0 2 * * * manage.py runflow b"))

    assert [item.tz for item in items if isinstance(item, Job)] == [None, "Europe/Berlin"]


def test_tz_applies_when_cron_tz_is_not_set():
    items = list(read('TZ="America/New_York"\n0 2 * * * manage.py runflow b'))

    assert items[-1].tz == "America/New_York"


def test_cron_tz_wins_over_tz():
    items = list(read("CRON_TZ=Europe/Berlin\nTZ=America/New_York\n0 2 * * * manage.py runflow b"))

    assert items[-1].tz == "Europe/Berlin"


def test_a_zone_setting_is_reported_as_a_note():
    assert only("CRON_TZ=Europe/Berlin") == Remark(
        1, "note", "CRON_TZ=Europe/Berlin applies to the lines below"
    )


def test_other_variables_are_ignored_with_a_note():
    assert only("MAILTO=ops@example.com") == Remark(
        1, "note", "MAILTO is ignored (only CRON_TZ and TZ are kept)"
    )


def test_line_numbers_count_every_line_of_the_file():
    items = list(read("# header\n\nMAILTO=x\n0 2 * * * manage.py runflow b"))

    assert [item.number for item in items] == [3, 4]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("@reboot python manage.py runflow x", "@reboot is not convertible: it has no due times"),
        ("0 4 * * * manage.py runflow x --check", "runflow --check only validates the flow; it runs nothing"),
        ("0 4 * * * manage.py runflow x --settings other", "unsupported runflow argument '--settings'"),
        ("0 4 * * * manage.py runflow", "runflow arguments: the following arguments are required: flow"),
        ("0 4 * * * manage.py runflow x --concurrency maybe", "runflow arguments: argument --concurrency:"),
        ("0 4 * * * manage.py runflow x && curl https://ping", "runs more after runflow (`&& curl`)"),
        ("0 4 * * * manage.py runflow x; manage.py runflow y", "calls runflow more than once"),
        ("0 4 * * * test -f /etc/off || manage.py runflow x", "runflow runs only under a condition (`||`)"),
        ("0 4 * * * manage.py runflow x --input day=$(date +\\%F)", "use shell expansion"),
        ("0 4 * * * manage.py runflow x --input 'a=1", "the command cannot be read: No closing quotation"),
        (
            "0 4 * * * manage.py runflow x %input on stdin",
            "unescaped %, which cron turns into input on stdin",
        ),
        ("0 4 * * manage.py runflow x", "not a crontab entry"),
    ],
)
def test_a_runflow_line_a_schedule_cannot_reproduce_is_refused_with_the_reason(line, reason):
    item = only(line)

    assert isinstance(item, Refusal)
    assert reason in item.reason
