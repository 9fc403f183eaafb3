"""Most cases run `runflow` in this process (runflow_here); those about the process itself
(console, terminal, exit, environment, argv bytes) start a real one (runflow)."""

import json
import re
import subprocess
import sys

import pytest

from flows.models import Flow, SysLog
from runner.models import Run
from tests.factories import EXAMPLE, make_flow, step
from tests.processes import ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)

SEED_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO Kt prt msg=hello$", re.MULTILINE)


def test_seed_example_succeeds_with_exit_code_0(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--json")

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "succeeded"
    assert outcome["context"]["step2"] == {"msg": "hello"}
    assert (outcome["error"], outcome["failed_step"]) == (None, None)


def test_json_output_is_one_object_with_the_stable_keys(runflow_here):
    make_flow("example", *EXAMPLE)

    outcome = json.loads(runflow_here("example", "--json").stdout)

    assert set(outcome) == {"run_id", "flow", "status", "context", "error", "failed_step", "steps"}
    assert outcome["flow"] == "example"


def test_procedure_log_line_reaches_wf_syslog_under_the_run_logger(runflow_here):
    make_flow("example", *EXAMPLE)

    run_id = json.loads(runflow_here("example", "--json").stdout)["run_id"]

    messages = SysLog.objects.of_logger_tree(f"workflow.run.{run_id}").values_list("message", flat=True)
    assert "msg=hello" in list(messages)


def test_console_line_has_the_seed_format(runflow):
    make_flow("example", *EXAMPLE)

    result = runflow("example")

    assert SEED_LINE.search(result.stderr), result.stderr


def test_run_record_keeps_the_definition_trigger_steps_and_log_range(runflow_here):
    flow = make_flow("example", *EXAMPLE)

    run_id = json.loads(runflow_here("example", "--json").stdout)["run_id"]

    run = Run.objects.get(pk=run_id)
    assert run.definition == flow.flow_json
    assert (run.trigger, run.status, run.flow_id) == ("cli", "succeeded", flow.pk)
    assert run.triggered_by
    assert run.started_at <= run.finished_at
    assert [(s.name, s.status) for s in run.steps.all()] == [("step1", "succeeded"), ("step2", "succeeded")]
    assert all(s.duration >= 0 for s in run.steps.all())
    logs = SysLog.objects.filter(id__gte=run.log_first_id, id__lte=run.log_last_id)
    assert "msg=hello" in [log.message for log in logs]


def test_unknown_flow_cannot_start(runflow_here):
    result = runflow_here("nope")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "runflow: cannot start: flow 'nope' not found"


def test_an_unknown_flow_name_suggests_the_closest_flow_names(runflow_here):
    for name in ("ux-hello", "ux-help", "nightly-etl"):
        make_flow(name, *EXAMPLE)

    result = runflow_here("ux-helo")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "runflow: cannot start: flow 'ux-helo' not found; did you mean 'ux-hello' or 'ux-help'?"
    )


def test_a_deleted_flow_is_not_suggested(runflow_here):
    make_flow("ux-hello", *EXAMPLE, deleted=True)

    result = runflow_here("ux-helo")

    assert result.stderr.strip().splitlines()[-1] == "runflow: cannot start: flow 'ux-helo' not found"


def test_disabled_flow_cannot_start(runflow_here):
    make_flow("off", *EXAMPLE, enabled=False)

    result = runflow_here("off")

    assert result.returncode == 2
    assert "flow 'off' is disabled" in result.stderr
    assert not Run.objects.exists()


def test_deleted_flow_cannot_start(runflow_here):
    make_flow("gone", *EXAMPLE, deleted=True)

    result = runflow_here("gone")

    assert result.returncode == 2
    assert "flow 'gone' is deleted" in result.stderr


def test_invalid_definition_cannot_start_and_lists_every_problem(runflow_here):
    make_flow("bad", step("a", msg="@nowhere.x"), step("a", method="nope"))

    result = runflow_here("bad")

    assert result.returncode == 2
    assert "UNKNOWN_STEP_REF at procedures[0].params.msg" in result.stderr
    assert "DUPLICATE_STEP at procedures[1].name" in result.stderr
    assert not Run.objects.exists()


def test_check_validates_without_running(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--check")

    assert result.returncode == 0
    assert "is valid" in result.stdout
    assert not Run.objects.exists()


def test_check_of_an_invalid_flow_exits_2_with_its_diagnostics(runflow_here):
    make_flow("bad", step("s", msg="@s.msg"))

    result = runflow_here("bad", "--check")

    assert result.returncode == 2
    assert "SELF_REF at procedures[0].params.msg" in result.stderr


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--input", "novalue"], "--input 'novalue' is not key=value"),
        (["--input-json", "{oops"], "--input-json is not valid JSON"),
        (["--input-json", "[1, 2]"], "--input-json must be a JSON object"),
    ],
)
def test_bad_input_options_cannot_start(runflow_here, args, reason):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", *args)

    assert result.returncode == 2
    assert reason in result.stderr


def test_unknown_option_exits_2(runflow_here):
    result = runflow_here("example", "--frobnicate")

    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


def test_input_values_are_parsed_as_json_when_they_parse(runflow_here):
    make_flow("in", step("s", "echo", "Testing", n="@_input.n", s="@_input.s", o="@_input.o"))

    result = runflow_here(
        "in", "--json", "--input", "n=42", "--input", "s=plain text", "--input-json", '{"o": [1]}'
    )

    assert json.loads(result.stdout)["context"]["s"] == {"n": 42, "s": "plain text", "o": [1]}


def test_procedure_exception_fails_the_run_with_exit_code_1(runflow_here):
    make_flow("boom", step("first", "echo", "Testing"), step("second", "boom", "Testing"))

    result = runflow_here("boom", "--json")

    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert (outcome["status"], outcome["failed_step"]) == ("failed", "second")
    assert result.stderr.strip().splitlines()[-1].startswith(f"runflow: run {outcome['run_id']} failed:")


def test_procedure_exception_leaves_its_traceback_in_wf_syslog_and_the_run(runflow_here):
    make_flow("boom", step("second", "boom", "Testing", why="kaput"))

    run_id = json.loads(runflow_here("boom", "--json").stdout)["run_id"]

    run = Run.objects.get(pk=run_id)
    assert "ValueError: kaput" in run.traceback
    assert run.steps.get().status == "failed"
    logged = SysLog.objects.of_logger_tree(f"workflow.run.{run_id}").filter(level="ERROR")
    assert any("Traceback" in log.message and "ValueError: kaput" in log.message for log in logged)


def test_unresolved_reference_fails_the_run_with_exit_code_1(runflow_here):
    make_flow("ref", step("step1", msg="hello"), step("step2", msg="@step1.missing"))

    result = runflow_here("ref", "--json")

    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["failed_step"] == "step2"
    assert "missing" in outcome["error"]


def test_non_dict_result_fails_the_run_with_exit_code_1(runflow_here):
    make_flow("nd", step("s", "not_a_dict", "Testing"))

    result = runflow_here("nd", "--json")

    assert result.returncode == 1
    assert "expected a dict" in json.loads(result.stdout)["error"]


def test_context_keeps_unjsonable_values_as_repr_and_marks_truncation(runflow_here):
    make_flow("big", step("s", "unjsonable", "Testing", size=400_000))

    run_id = json.loads(runflow_here("big", "--json").stdout)["run_id"]

    stored = Run.objects.get(pk=run_id).context["s"]
    assert stored["__truncated__"] is True
    assert stored["original_bytes"] > 400_000
    assert "<object object at" in stored["preview"]


def test_unicode_goes_end_to_end(runflow_here):
    text = "héllo 日本 🚀 <b>&amp;</b>"
    make_flow("uni-🚀", step("step1", msg=text), step("step2", msg="@step1.msg"))

    result = runflow_here("uni-🚀", "--json")

    run_id = json.loads(result.stdout)["run_id"]
    assert json.loads(result.stdout)["context"]["step2"] == {"msg": text}
    assert SysLog.objects.of_logger_tree(f"workflow.run.{run_id}").filter(message=f"msg={text}").count() == 2


def test_progress_is_not_shown_with_json_output(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--json")

    assert "▶" not in result.stderr and "▶" not in result.stdout


def test_an_unreachable_database_cannot_start_with_a_one_line_reason(runflow):
    result = runflow("example", DATABASE_URL="mysql://root@127.0.0.1:1/nowhere")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("runflow: cannot start: database unavailable:")


def test_a_procedure_calling_sys_exit_fails_the_run_and_leaves_it_recorded(runflow):
    make_flow("bye", step("s", "exit_process", "Testing"))

    result = runflow("bye")

    assert result.returncode == 1
    # The procedure ran in the supervised child: runflow itself goes on and reports the run.
    assert result.stderr.strip().splitlines()[-1].endswith("failed: interrupted: SystemExit 3")
    run = Run.objects.get()
    assert (run.status, run.error) == ("failed", "interrupted: SystemExit 3")


def test_a_result_with_text_the_database_cannot_encode_is_stored_escaped(runflow_here):
    make_flow("enc", step("s", "surrogate", "Testing"))

    result = runflow_here("enc", "--json")

    assert result.returncode == 0, result.stderr
    assert Run.objects.get().context["s"] == {"name": "caf\\udce9"}


def test_a_result_nested_deeper_than_the_database_allows_is_stored_with_a_marker(runflow_here):
    make_flow("deep", step("s", "deep", "Testing", depth=60))

    result = runflow_here("deep", "--json")

    assert result.returncode == 0, result.stderr
    assert "nested deeper than" in json.dumps(Run.objects.get().context["s"])


def test_input_nested_too_deeply_cannot_start(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--input-json", '{"a": ' + "[" * 50 + "]" * 50 + "}")

    assert result.returncode == 2
    assert "nested deeper than" in result.stderr
    assert not Run.objects.exists()


def test_input_nested_beyond_the_parser_cannot_start(runflow_here):
    result = runflow_here("example", "--input-json", "[" * 100_000)

    assert result.returncode == 2
    assert "nested too deeply" in result.stderr


def test_a_killed_cli_run_is_marked_lost_by_the_next_cli_run(runflow_here, settings):
    from datetime import timedelta

    from django.utils import timezone

    make_flow("example", *EXAMPLE)
    stale = timezone.now() - timedelta(seconds=settings.WORKFLOW_WORKER_LOST_SECONDS + 5)
    dead = Run.objects.create(
        flow_name="example", definition="{}", trigger="cli", status="running", heartbeat_at=stale
    )

    result = runflow_here("example", "--concurrency", "skip_if_running")

    assert result.returncode == 0, result.stderr
    assert Run.objects.get(pk=dead.pk).error == "worker lost"


LONG_INTEGER = "1" * 5000


def test_a_flow_with_an_integer_over_4300_digits_cannot_start(runflow_here):
    text = json.dumps({"procedures": [step("s", msg="hello")]}).replace('"hello"', LONG_INTEGER)
    Flow.objects.create(flow_name="big", flow_json=text)

    result = runflow_here("big")

    assert result.returncode == 2
    assert "INVALID_JSON at : a number in the JSON has more than 4300 digits (line 1, column" in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1] == "runflow: cannot start: flow 'big' is invalid: 1 problem(s)"
    )


def test_input_json_with_an_integer_over_4300_digits_cannot_start(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--input-json", '{"n": ' + LONG_INTEGER + "}")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "runflow: cannot start: --input-json:"
        " a number in the JSON has more than 4300 digits (line 1, column 7)"
    )


def test_an_input_value_with_an_integer_over_4300_digits_cannot_start(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--input", "n=" + LONG_INTEGER)

    assert result.returncode == 2
    assert result.stderr.splitlines()[-2:] == [
        "  n: a number in the JSON has more than 4300 digits; quote the value to pass it as text",
        "runflow: cannot start: the run input does not fit the flow's inputs:"
        " n: a number in the JSON has more than 4300 digits; quote the value to pass it as text",
    ]


def test_input_json_with_nan_cannot_start_with_its_own_reason(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--input-json", '{"x": NaN}')

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "runflow: cannot start: --input-json:"
        " NaN is not a JSON number: numbers must be finite (line 1, column 7)"
    )


def test_an_input_value_beyond_float_range_cannot_start(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--input", "x=-1e400")

    assert result.returncode == 2
    assert result.stderr.startswith("  x: the number -1e400 is too large")


def test_a_flow_name_that_is_not_utf8_cannot_start(tmp_path):
    # Python hands a non-UTF-8 argument over as a str with lone surrogates.
    result = subprocess.run(
        [sys.executable, "manage.py", "runflow", b"caf\xe9"],
        cwd=ROOT,
        env=child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "runflow: cannot start: the flow name 'caf\\udce9' is not UTF-8 text"
    )


def test_a_flow_name_that_is_not_utf8_gives_its_json_outcome(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "runflow", b"caf\xe9", "--json"],
        cwd=ROOT,
        env=child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["flow"] == "caf\udce9"


@pytest.mark.parametrize(
    "prepared, missing",
    [
        ("nothing", "wf_flow, wf_syslog, runner_run, runner_runstep, runner_flowgate tables"),
        ("migrate", "wf_flow, wf_syslog tables"),
    ],
)
def test_a_database_without_the_wf_tables_cannot_start(tmp_path, prepared, missing):
    env = child_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    if prepared == "migrate":
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    result = subprocess.run(
        [sys.executable, "manage.py", "runflow", "example"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"runflow: cannot start: the database has no {missing}:"
        " run `manage.py migrate` and `manage.py create_wf_tables`"
    ]
