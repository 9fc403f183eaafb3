"""Declared inputs at every entry point: `runflow --input`, the flow page's run form, a schedule
(saved from the form or `manage.py schedule`, and at its tick) read the same text the same way
and refuse it with the same words; the HTTP API and webhooks, which take JSON values, refuse
a value with the same words too. The engine's own rules: tests/engine/test_declared_inputs.py."""

import io
import json
from datetime import UTC, datetime, timedelta
from html import escape

import pytest
from django.core.management import call_command
from django.db import connections

from api.webhooks import rotate
from flows.models import Flow
from runner.models import Run
from schedules import editing
from schedules.management.commands.schedule import Command as ScheduleCommand
from schedules.models import Schedule, Tick
from schedules.ticking import run_pass
from tests.api.helpers import send, token_client
from tests.factories import ALL_PERMS, client_for, flow_from_text, make_user, step

pytestmark = pytest.mark.django_db

INPUTS = {
    "day": {"type": "string", "required": True, "description": "YYYY-MM-DD"},
    "limit": {"type": "integer", "default": 100},
    "mode": {"type": "string", "enum": ["full", "delta"], "default": "delta"},
    "dry": {"type": "boolean"},
    "tags": {"type": "array"},
}
READS = {"day": "@_input.day", "limit": "@_input.limit", "mode": "@_input.mode"}

NOT_AN_INTEGER = 'limit: "abc" is not an integer'
NO_DAY = "day: required (YYYY-MM-DD), and no value was given"
UNKNOWN = "nmae: not an input of this flow (its inputs: day, limit, mode, dry, tags)"


def nightly_json(inputs: dict = INPUTS, reads: dict = READS) -> str:
    return json.dumps(
        {"inputs": inputs, "procedures": [step("report", "echo", "Testing", **reads)]}, indent=2
    )


@pytest.fixture
def nightly(db) -> Flow:
    return flow_from_text("nightly", nightly_json())


@pytest.fixture
def operator(db):
    return client_for(make_user("operator", "view_flow", "change_flow", "run_flow"))


# One function per surface: the input it stored, or the problems it listed, one per line.


@pytest.fixture
def from_cli(settings, tmp_path):
    from runner.log import shutdown_logging

    settings.WORKFLOW_LOG_FILE = str(tmp_path / "workflow.log")

    def run(texts: dict[str, str]) -> dict | list[str]:
        args = [arg for key, text in texts.items() for arg in ("--input", f"{key}={text}")]
        stderr = io.StringIO()
        try:
            call_command("runflow", "nightly", "--queue", *args, stdout=io.StringIO(), stderr=stderr)
        except SystemExit as exit_:
            assert exit_.code == 2
            *problems, last = stderr.getvalue().splitlines()
            assert (
                last
                == "runflow: cannot start: the run input does not fit the flow's inputs: "
                + "; ".join(problem.strip() for problem in problems)
            )
            assert all(problem.startswith("  ") for problem in problems)
            return [problem.strip() for problem in problems]
        return Run.objects.get().input

    yield run
    shutdown_logging()


@pytest.fixture
def from_web(operator):
    def run(texts: dict[str, str]) -> dict | list[str]:
        response = operator.post("/flows/nightly/run/", {f"input-{key}": text for key, text in texts.items()})
        if response.status_code == 302:
            return Run.objects.get().input
        assert response.status_code == 400
        problems = response.context["run_problems"]
        html = response.content.decode()
        assert all(f"<li>{escape(problem)}</li>" in html for problem in problems)
        return problems

    return run


@pytest.fixture
def from_schedule_form(operator):
    def run(texts: dict[str, str]) -> dict | list[str]:
        lines = "\r\n".join(f"{key}={text}" for key, text in texts.items())
        data = {"cron": "@daily", "timezone": "UTC", "input": lines, "overlap": "allow", "catch_up": "skip"}
        response = operator.post("/flows/nightly/schedules/add/", {**data, "catch_up_limit": "10"})
        if response.status_code == 303:
            return Schedule.objects.get().input
        assert response.status_code == 400
        assert not Schedule.objects.exists()
        problems = response.context["form"].errors["input"]
        html = response.content.decode()
        assert all(f"<li>{escape(problem)}</li>" in html for problem in problems)
        return problems

    return run


@pytest.fixture
def from_schedule_command(monkeypatch):
    # run_from_argv closes the connections when it ends; the test's transaction lives on one.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(texts: dict[str, str]) -> dict | list[str]:
        args = [arg for key, text in texts.items() for arg in ("--input", f"{key}={text}")]
        stdout, stderr = io.StringIO(), io.StringIO()
        with pytest.raises(SystemExit) as exited:
            ScheduleCommand(stdout=stdout, stderr=stderr).run_from_argv(
                ["manage.py", "schedule", "add", "nightly", "@daily", "--tz", "UTC", *args]
            )
            raise SystemExit(0)
        if exited.value.code == 0:
            return Schedule.objects.get().input
        assert exited.value.code == 2
        [line] = stderr.getvalue().splitlines()
        prefix = "schedule add: the input does not fit the flow's inputs: "
        assert line.startswith(prefix)
        return line.removeprefix(prefix).split("; ")

    return run


@pytest.fixture
def from_api(nightly):
    client = token_client(make_user("ci", *ALL_PERMS), scope="run")

    def run(values: dict) -> dict | list[str]:
        response = send(client, "POST", "/flows/nightly/runs", {"input": values})
        if response.status_code == 201:
            return Run.objects.get().input
        assert response.status_code == 422
        return response.json()["problems"]

    return run


@pytest.fixture
def from_webhook(nightly, client):
    _, secret = rotate(nightly.pk)

    def run(values: dict) -> dict | list[str]:
        response = client.post(f"/hooks/{secret}", json.dumps(values), content_type="application/json")
        if response.status_code == 202:
            return Run.objects.get().input
        assert response.status_code == 422
        return response.json()["problems"]

    return run


SURFACES = ["from_cli", "from_web", "from_schedule_form", "from_schedule_command"]
JSON_SURFACES = ["from_api", "from_webhook"]  # JSON values: "abc" is a string as typed, too
RUNS = ["from_cli", "from_web"]
SCHEDULES = ["from_schedule_form", "from_schedule_command"]


# The same text, the same problems, everywhere


@pytest.mark.parametrize("surface", SURFACES + JSON_SURFACES)
def test_a_text_that_is_not_of_its_inputs_type_is_refused_alike_everywhere(request, nightly, surface):
    assert request.getfixturevalue(surface)({"day": "2025-03-01", "limit": "abc"}) == [NOT_AN_INTEGER]


@pytest.mark.parametrize("surface", SURFACES)
def test_a_required_input_left_out_is_refused_alike_everywhere(request, nightly, surface):
    assert request.getfixturevalue(surface)({"limit": "5"}) == [NO_DAY]


@pytest.mark.parametrize("surface", SURFACES + JSON_SURFACES)
def test_an_unknown_input_is_refused_alike_everywhere(request, nightly, surface):
    # On the web a stale page can post a field the flow no longer declares.
    assert request.getfixturevalue(surface)({"day": "d", "nmae": "x"}) == [UNKNOWN]


@pytest.mark.parametrize("surface", SURFACES)
def test_every_problem_is_listed_at_once_alike_everywhere(request, nightly, surface):
    found = request.getfixturevalue(surface)({"limit": "abc", "mode": "all", "dry": "maybe"})

    assert found == [
        NOT_AN_INTEGER,
        'dry: "maybe" is not a boolean: write true or false',
        NO_DAY,
        'mode: "all" is not one of "full", "delta"',
    ]


@pytest.mark.parametrize("surface", SURFACES + JSON_SURFACES)
def test_nothing_is_queued_or_stored_when_the_input_is_refused(request, nightly, surface):
    request.getfixturevalue(surface)({"limit": "abc"})

    assert not Run.objects.exists()
    assert not Schedule.objects.exists()


# Reading text by type


@pytest.mark.parametrize("surface", RUNS)
def test_a_run_reads_each_text_by_its_inputs_type_and_applies_defaults(request, nightly, surface):
    found = request.getfixturevalue(surface)({"day": "007", "limit": "5", "dry": "yes", "tags": '["a", 1]'})

    assert found == {"day": "007", "limit": 5, "mode": "delta", "dry": True, "tags": ["a", 1]}
    assert type(found["limit"]) is int


@pytest.mark.parametrize("surface", RUNS)
def test_an_optional_input_left_out_is_null_in_the_run(request, nightly, surface):
    found = request.getfixturevalue(surface)({"day": "2025-03-01"})

    assert found == {"day": "2025-03-01", "limit": 100, "mode": "delta", "dry": None, "tags": None}


@pytest.mark.parametrize("surface", SCHEDULES)
def test_a_schedule_stores_what_was_given_read_by_type_without_the_defaults(request, nightly, surface):
    assert request.getfixturevalue(surface)({"day": "007", "limit": "5"}) == {"day": "007", "limit": 5}


@pytest.mark.parametrize("surface", SCHEDULES)
def test_a_string_input_keeps_a_text_that_would_be_json(request, nightly, surface):
    assert request.getfixturevalue(surface)({"day": "2025"}) == {"day": "2025"}


# The CLI


@pytest.fixture
def runflow_cli(runflow_here, monkeypatch):
    # runflow_here closes the connections when it ends, as a process would; this test's
    # transaction lives on one of them, and the test reads the database afterwards.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    return runflow_here


def test_runflow_input_json_values_are_checked_as_given(nightly, runflow_here):
    result = runflow_here("nightly", "--queue", "--input-json", '{"day": "d", "limit": "5"}')

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        '  limit: "5" is not an integer',
        'runflow: cannot start: the run input does not fit the flow\'s inputs: limit: "5" is not an integer',
    ]


def test_runflow_input_wins_over_input_json_for_the_same_key(nightly, runflow_cli):
    result = runflow_cli(
        "nightly", "--queue", "--input-json", '{"day": "d", "limit": "5"}', "--input", "limit=5"
    )

    assert result.returncode == 0, result.stderr
    assert Run.objects.get().input["limit"] == 5


def test_runflow_json_outcome_lists_the_problems(nightly, runflow_here):
    result = runflow_here("nightly", "--json", "--input", "limit=abc")

    outcome = json.loads(result.stdout)
    assert result.returncode == 2
    assert (outcome["status"], outcome["run_id"]) == ("not_started", None)
    assert outcome["problems"] == [NOT_AN_INTEGER, NO_DAY]
    assert outcome["error"] == f"the run input does not fit the flow's inputs: {NOT_AN_INTEGER}; {NO_DAY}"


def test_runflow_json_outcome_has_no_problems_key_for_other_refusals(runflow_here):
    outcome = json.loads(runflow_here("missing", "--json").stdout)

    assert "problems" not in outcome


def test_runflow_still_refuses_a_malformed_input_entry_before_reading_the_flow(nightly, runflow_here):
    result = runflow_here("nightly", "--input", "day")

    assert result.stderr.splitlines() == ["runflow: cannot start: --input 'day' is not key=value"]


@pytest.mark.django_db(transaction=True)
def test_runflow_runs_the_flow_with_the_typed_input(runflow_here):
    flow_from_text("nightly", nightly_json())

    result = runflow_here("nightly", "--json", "--input", "day=007", "--input", "limit=5")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["context"]["report"] == {"day": "007", "limit": 5, "mode": "delta"}


# The run form


def run_section(html: str) -> str:
    start = html.index('id="run-form"')
    return html[start : html.index("</section>", start)]


def test_the_run_form_has_one_field_per_declared_input_in_order(operator, nightly):
    section = run_section(operator.get("/flows/nightly/").content.decode())

    names = ["input-day", "input-limit", "input-mode", "input-dry", "input-tags"]
    assert [section.index(f'name="{name}"') for name in names] == sorted(
        section.index(f'name="{name}"') for name in names
    )
    assert 'name="input"' not in section


def test_a_string_or_integer_input_is_a_text_field_with_its_default_as_placeholder(operator, nightly):
    section = run_section(operator.get("/flows/nightly/").content.decode())

    assert '<input type="text" name="input-day"' in section
    assert 'name="input-limit"' in section and 'placeholder="100"' in section
    assert 'inputmode="numeric"' in section


def test_a_required_input_is_marked_and_described(operator, nightly):
    section = run_section(operator.get("/flows/nightly/").content.decode())

    assert '<span class="required">(required)</span>' in section
    assert 'aria-required="true"' in section
    assert "string · YYYY-MM-DD" in section


def options_of(section: str, name: str) -> list[str]:
    """The options of a select, as rendered."""
    start = section.index(f'name="{name}"')
    select = section[start : section.index("</select>", start)]
    return [line.strip() for line in select.splitlines() if line.strip().startswith("<option")]


def test_an_enum_input_is_a_select_of_its_choices_with_the_default_first(operator, nightly):
    section = run_section(operator.get("/flows/nightly/").content.decode())

    assert options_of(section, "input-mode") == [
        '<option value="" selected>(default: delta)</option>',
        '<option value="full">full</option>',
        '<option value="delta">delta</option>',
    ]


def test_a_boolean_input_is_a_select_of_true_false_or_not_given(operator, nightly):
    section = run_section(operator.get("/flows/nightly/").content.decode())

    assert options_of(section, "input-dry") == [
        '<option value="" selected>(not given)</option>',
        '<option value="true">true</option>',
        '<option value="false">false</option>',
    ]


def test_an_object_or_array_input_is_a_json_textarea(operator, nightly):
    section = run_section(operator.get("/flows/nightly/").content.decode())

    assert '<textarea name="input-tags"' in section
    assert 'placeholder="[]"' in section


def test_a_flow_that_declares_no_inputs_has_no_field_and_says_so(operator):
    flow_from_text("plain", json.dumps({"inputs": {}, "procedures": [step("s", msg="hi")]}))

    section = run_section(operator.get("/flows/plain/").content.decode())

    assert 'id="no-inputs"' in section
    assert "<textarea" not in section


def test_a_refused_run_keeps_what_was_typed_in_each_field(operator, nightly):
    response = operator.post(
        "/flows/nightly/run/", {"input-day": "<b>tuesday</b>", "input-limit": "abc", "input-mode": "full"}
    )

    section = run_section(response.content.decode())
    assert 'value="&lt;b&gt;tuesday&lt;/b&gt;"' in section
    assert 'value="abc"' in section
    assert '<option value="full" selected>full</option>' in section


def test_the_problems_of_a_refused_run_are_escaped(operator, nightly):
    response = operator.post("/flows/nightly/run/", {"input-day": "d", "input-limit": "<script>"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "<li>limit: &quot;&lt;script&gt;&quot; is not an integer</li>" in html
    assert "<script>" not in run_section(html)


def test_a_blank_optional_field_is_not_given(operator, nightly):
    operator.post("/flows/nightly/run/", {"input-day": "d", "input-limit": "  ", "input-mode": ""})

    assert Run.objects.get().input == {"day": "d", "limit": 100, "mode": "delta", "dry": None, "tags": None}


def test_a_string_field_keeps_its_spaces(operator, nightly):
    operator.post("/flows/nightly/run/", {"input-day": " d "})

    assert Run.objects.get().input["day"] == " d "


def test_a_field_posted_for_a_flow_that_no_longer_declares_inputs_is_still_given(operator, nightly):
    Flow.objects.filter(pk=nightly.pk).update(
        flow_json=json.dumps({"procedures": [step("s", msg="@_input.day")]})
    )

    operator.post("/flows/nightly/run/", {"input-day": "7"})

    assert Run.objects.get().input == {"day": 7}  # without a declaration: JSON when it parses


# The overview's Run button


def flow_with(name: str, inputs: dict) -> Flow:
    return flow_from_text(name, json.dumps({"inputs": inputs, "procedures": [step("s", msg="hi")]}))


def row_of(html: str, name: str) -> str:
    start = html.index(f'data-flow="{name}"')
    return html[start : html.index("</tr>", start)]


def test_a_flow_with_a_required_input_and_no_default_runs_from_its_run_form(operator, nightly):
    row = row_of(operator.get("/").content.decode(), "nightly")

    assert 'href="/flows/nightly/#run-form"' in row
    assert 'action="/flows/nightly/run/"' not in row


def test_a_flow_whose_inputs_all_have_defaults_or_may_be_null_runs_in_one_click(operator):
    flow_with("easy", {"n": {"type": "integer", "required": True, "default": 1}, "note": {"type": "string"}})

    row = row_of(operator.get("/").content.decode(), "easy")

    assert 'action="/flows/easy/run/"' in row
    assert "#run-form" not in row


def test_a_declaration_overrides_the_guess_from_input_references(operator):
    text = json.dumps(
        {"inputs": {"n": {"type": "integer", "default": 1}}, "procedures": [step("s", msg="@_input.n")]}
    )
    flow_from_text("defaulted", text)

    row = row_of(operator.get("/").content.decode(), "defaulted")

    assert 'action="/flows/defaulted/run/"' in row


def test_declared_inputs_add_no_query_to_the_overview(django_assert_num_queries):
    from tests.web.test_overview import OVERVIEW_QUERIES

    operator = client_for(make_user("admin", *ALL_PERMS))
    for i in range(30):
        flow_with(f"declared-{i:02}", {"day": {"type": "string", "required": True}})

    with django_assert_num_queries(OVERVIEW_QUERIES):
        html = operator.get("/").content.decode()
    assert html.count("#run-form") == 30


# Runs started by the API and webhooks


@pytest.mark.parametrize("trigger", ["api", "webhook"])
def test_the_runs_list_filters_by_the_api_and_webhook_triggers(operator, trigger):
    html = operator.get("/runs/", {"trigger": trigger}).content.decode()

    assert f'<option value="{trigger}" selected>{trigger}</option>' in html


# Schedules: checked when saved, checked again at each tick


def schedule_at(flow: Flow, start: datetime, **fields) -> Schedule:
    return editing.create(flow, cron_text="0 * * * *", tz_name="UTC", now=start, **fields)


START = datetime(2026, 6, 1, tzinfo=UTC)


def tick_after(start: datetime) -> Tick:
    run_pass(start + timedelta(hours=1, seconds=5))
    return Tick.objects.get()


def test_a_schedule_saved_before_the_declaration_changed_is_refused_at_its_tick(nightly):
    schedule_at(nightly, START, input={"day": "d", "limit": 5})
    renamed = {"day": INPUTS["day"], "limits": {"type": "integer"}}
    Flow.objects.filter(pk=nightly.pk).update(flow_json=nightly_json(renamed, {"n": "@_input.limits"}))

    tick = tick_after(START)

    assert (tick.outcome, tick.run_id) == ("refused", None)
    assert tick.detail == (
        "the run input does not fit the flow's inputs:"
        " limit: not an input of this flow (its inputs: day, limits); did you mean limits?"
    )
    assert not Run.objects.exists()


def test_a_schedule_saved_without_a_later_required_input_is_refused_at_its_tick(nightly):
    schedule_at(nightly, START, input={"day": "d"})
    required = {**INPUTS, "region": {"type": "string", "required": True, "description": "eu or us"}}
    Flow.objects.filter(pk=nightly.pk).update(flow_json=nightly_json(required))

    tick = tick_after(START)

    assert tick.outcome == "refused"
    assert tick.detail.endswith("region: required (eu or us), and no value was given")


def test_a_schedules_run_gets_the_defaults_of_the_definition_at_its_tick(nightly):
    schedule = schedule_at(nightly, START, input={"day": "d"})
    Flow.objects.filter(pk=nightly.pk).update(
        flow_json=nightly_json({**INPUTS, "limit": {"type": "integer", "default": 7}})
    )

    tick = tick_after(START)

    assert (schedule.input, tick.outcome) == ({"day": "d"}, "fired")
    assert Run.objects.get().input["limit"] == 7


def test_a_schedule_input_of_the_wrong_type_is_refused_when_saved(nightly):
    with pytest.raises(editing.ScheduleInputError) as refused:
        schedule_at(nightly, START, input={"day": "d", "limit": "5"})

    assert refused.value.problems == ['limit: "5" is not an integer']
    assert str(refused.value) == 'the input does not fit the flow\'s inputs: limit: "5" is not an integer'


def test_editing_a_schedule_checks_its_input_against_the_flow_as_it_is_now(nightly, operator):
    schedule = schedule_at(nightly, START, input={"day": "d"})
    data = {"cron": "@daily", "timezone": "UTC", "input": '{"day": "d", "limit": 5.5}', "overlap": "allow"}

    response = operator.post(
        f"/schedules/{schedule.pk}/edit/", {**data, "catch_up": "skip", "catch_up_limit": "10"}
    )

    schedule.refresh_from_db()
    assert response.status_code == 400
    assert response.context["form"].errors["input"] == ["limit: 5.5 is not an integer"]
    assert schedule.input == {"day": "d"}


def test_a_schedule_given_json_stores_an_integer_written_as_5_0_as_5(nightly):
    schedule = schedule_at(nightly, START, input={"day": "d", "limit": 5.0})

    assert schedule.input == {"day": "d", "limit": 5}


def test_importing_a_crontab_line_with_bad_input_fails_that_line_with_the_problems(
    nightly, tmp_path, monkeypatch
):
    monkeypatch.setattr(connections, "close_all", lambda: None)
    crontab = tmp_path / "crontab"
    crontab.write_text("0 3 * * * python manage.py runflow nightly --input limit=abc\n")
    stdout = io.StringIO()

    with pytest.raises(SystemExit):
        ScheduleCommand(stdout=stdout, stderr=io.StringIO()).run_from_argv(
            ["manage.py", "schedule", "import-crontab", str(crontab)]
        )

    assert (
        f"failed: the input does not fit the flow's inputs: {NOT_AN_INTEGER}; {NO_DAY}" in stdout.getvalue()
    )
    assert not Schedule.objects.exists()
