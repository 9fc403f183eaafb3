"""Resume from the failed step: `runflow --resume RUN_ID` and the rules of runner.resume."""

import json

import pytest

from flows.models import Flow
from runner import resume, services
from runner.models import Run
from tests.factories import definition, make_flow, make_run, step
from tests.runs.test_runflow_terminal import runflow_on_a_terminal, screen

pytestmark = pytest.mark.django_db(transaction=True)


def three_steps(tmp_path) -> list[dict]:
    """A side effect counted in a file, a step failing while a flag file exists, a third one."""
    return [
        step("load", "count", "Resuming", path=str(tmp_path / "counter")),
        step("send", "fail_while", "Resuming", path=str(tmp_path / "flag"), value="@load.rows"),
        step("report", "echo", "Testing", sent="@send.ok"),
    ]


def failed_run(runflow_here, tmp_path, name="nightly") -> int:
    """A run of three_steps that failed at "send"; the flag file is removed afterwards."""
    make_flow(name, *three_steps(tmp_path))
    (tmp_path / "flag").touch()
    result = runflow_here(name, "--json")
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)["run_id"]


def executions(tmp_path) -> int:
    return (tmp_path / "counter").read_text().count("ran")


def test_runflow_resume_succeeds_and_runs_the_first_step_once_in_total(runflow, runflow_here, tmp_path):
    original = failed_run(runflow_here, tmp_path)
    (tmp_path / "flag").unlink()

    result = runflow("--resume", str(original), "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    assert executions(tmp_path) == 1


def test_a_resume_is_linked_to_its_original_and_starts_at_the_failed_step(runflow_here, tmp_path):
    original = failed_run(runflow_here, tmp_path)
    (tmp_path / "flag").unlink()

    outcome = json.loads(runflow_here("--resume", str(original), "--json").stdout)

    run = Run.objects.get(pk=outcome["run_id"])
    assert (run.trigger, run.resumed_from_id) == ("resume", original)
    assert run.definition == Run.objects.get(pk=original).definition
    steps = [(s.name, s.status, s.reused_from_run_id) for s in run.steps.order_by("index")]
    assert steps == [("load", "reused", original), ("send", "succeeded", None), ("report", "succeeded", None)]
    assert outcome["context"]["load"] == {"rows": [1, 2, 3]}
    assert outcome["context"]["send"]["got"] == [1, 2, 3]


def test_a_resume_of_a_resume_reuses_the_results_of_the_run_it_resumes(runflow_here, tmp_path):
    original = failed_run(runflow_here, tmp_path)
    first = json.loads(runflow_here("--resume", str(original), "--json").stdout)  # the flag is still there
    (tmp_path / "flag").unlink()

    second = json.loads(runflow_here("--resume", str(first["run_id"]), "--json").stdout)

    assert (first["status"], second["status"]) == ("failed", "succeeded")
    load = Run.objects.get(pk=second["run_id"]).steps.get(name="load")
    assert (load.status, load.reused_from_run_id) == ("reused", first["run_id"])
    assert executions(tmp_path) == 1


def test_the_json_outcome_lists_each_step_with_its_attempts(runflow_here, tmp_path):
    make_flow("nightly", *three_steps(tmp_path))

    outcome = json.loads(runflow_here("nightly", "--json").stdout)

    assert [s["name"] for s in outcome["steps"]] == ["load", "send", "report"]
    assert set(outcome["steps"][0]) == {"name", "status", "attempts", "duration", "error"}
    assert (outcome["steps"][0]["status"], outcome["steps"][0]["attempts"]) == ("succeeded", 1)
    assert outcome["steps"][0]["duration"] >= 0


def test_the_json_outcome_of_a_failed_step_names_its_error(runflow_here, tmp_path):
    failed_run(runflow_here, tmp_path)

    outcome = json.loads(runflow_here("nightly", "--json").stdout)

    send = outcome["steps"][1]
    assert send["status"] == "failed"
    assert "ConnectionError" in send["error"]


def test_resuming_a_succeeded_run_is_refused(runflow_here):
    make_flow("example", step("a", msg="hi"))
    run = make_run(status="succeeded", definition=definition(step("a", msg="hi")))

    result = runflow_here("--resume", str(run.pk))

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"runflow: cannot start: run {run.pk} succeeded: there is nothing to resume"
    )


@pytest.mark.parametrize("status", ["queued", "running"])
def test_resuming_an_active_run_is_refused(runflow_here, status):
    make_flow("example", step("a", msg="hi"))
    run = make_run(status=status)

    result = runflow_here("--resume", str(run.pk))

    assert result.returncode == 2
    assert f"run {run.pk} is still {status}" in result.stderr


def test_resuming_an_unknown_run_is_refused(runflow_here):
    result = runflow_here("--resume", "987654", "--json")

    assert result.returncode == 2
    assert json.loads(result.stdout)["error"] == "run 987654 not found"


def test_resuming_is_refused_when_a_later_step_needs_a_truncated_result(runflow_here, tmp_path):
    make_flow(
        "big",
        step("fetch", "big", "Resuming", size=400_000),
        step("send", "fail_while", "Resuming", path=str(tmp_path / "flag"), value="@fetch.text"),
    )
    (tmp_path / "flag").touch()
    original = json.loads(runflow_here("big", "--json").stdout)["run_id"]

    result = runflow_here("--resume", str(original))

    assert result.returncode == 2
    assert "the result of step 'fetch'" in result.stderr
    assert "not stored in full (truncated)" in result.stderr
    assert Run.objects.filter(resumed_from_id=original).count() == 0


def test_resuming_is_refused_when_a_later_step_needs_a_value_kept_as_its_repr(runflow_here, tmp_path):
    make_flow(
        "odd",
        step("fetch", "odd", "Resuming"),
        step("send", "fail_while", "Resuming", path=str(tmp_path / "flag"), value="@fetch.when"),
    )
    (tmp_path / "flag").touch()
    original = json.loads(runflow_here("odd", "--json").stdout)["run_id"]

    result = runflow_here("--resume", str(original))

    assert result.returncode == 2
    assert "not JSON was kept as its repr" in result.stderr
    assert Run.objects.filter(resumed_from_id=original).count() == 0


def test_a_truncated_result_no_later_step_refers_to_does_not_stop_a_resume(runflow_here, tmp_path):
    make_flow(
        "big",
        step("fetch", "big", "Resuming", size=400_000),
        step("send", "fail_while", "Resuming", path=str(tmp_path / "flag")),
    )
    (tmp_path / "flag").touch()
    original = json.loads(runflow_here("big", "--json").stdout)["run_id"]
    (tmp_path / "flag").unlink()

    assert runflow_here("--resume", str(original)).returncode == 0


def test_a_name_and_resume_together_are_refused(runflow_here):
    result = runflow_here("example", "--resume", "1")

    assert result.returncode == 2
    assert "one of them" in result.stderr


def test_resume_takes_no_input(runflow_here):
    result = runflow_here("--resume", "1", "--input", "a=1")

    assert result.returncode == 2
    assert "original run's input" in result.stderr


def test_the_current_definition_is_refused_when_a_step_before_the_failed_one_changed(runflow_here, tmp_path):
    original = failed_run(runflow_here, tmp_path)
    changed = three_steps(tmp_path)
    changed[0]["params"]["path"] = str(tmp_path / "elsewhere")
    Flow.objects.filter(flow_name="nightly").update(flow_json=definition(*changed))

    with pytest.raises(resume.CannotResume) as refused:
        services.create_resume_run(original, current_definition=True)

    assert "changed steps before 'send'" in str(refused.value)
    assert refused.value.differences == [
        f"step 1 'load': params {json.dumps({'path': str(tmp_path / 'counter')})}"
        f" → {json.dumps({'path': str(tmp_path / 'elsewhere')})}"
    ]


def test_the_current_definition_is_used_when_only_later_steps_changed(runflow_here, tmp_path):
    original = failed_run(runflow_here, tmp_path)
    changed = three_steps(tmp_path)
    changed[2]["params"] = {"sent": "@send.ok", "extra": 1}
    Flow.objects.filter(flow_name="nightly").update(flow_json=definition(*changed))

    run = services.create_resume_run(original, current_definition=True)

    assert run.definition == definition(*changed)


def test_a_new_run_starts_at_the_first_step_with_nothing_reused(tmp_path):
    make_flow("nightly", *three_steps(tmp_path))

    run = services.create_run(Flow.objects.get(), input={}, trigger="cli", triggered_by="t")

    assert resume.plan_for(run) == resume.ResumePlan()


def test_the_plan_of_a_resume_starts_at_the_failed_step_with_the_results_before_it(runflow_here, tmp_path):
    original = failed_run(runflow_here, tmp_path)

    plan = resume.plan_for(services.create_resume_run(original))

    assert plan == resume.ResumePlan(
        start_at=1, reused={"load": {"rows": [1, 2, 3]}}, reused_from_run_id=original
    )


def retried(tmp_path, failures: int) -> dict:
    """A step failing `failures` times before it succeeds, retried at once up to 3 attempts."""
    flaky = step("fetch", "fail_times", "Resuming", path=str(tmp_path / "attempts"), failures=failures)
    return {**flaky, "retry": {"max_attempts": 3, "delay_seconds": 0}}


def test_the_json_outcome_counts_the_attempts_of_a_retried_step(runflow_here, tmp_path):
    make_flow("flaky", retried(tmp_path, failures=2))

    outcome = json.loads(runflow_here("flaky", "--json").stdout)

    assert outcome["status"] == "succeeded"
    assert [(s["name"], s["status"], s["attempts"], s["error"]) for s in outcome["steps"]] == [
        ("fetch", "succeeded", 3, None)
    ]


def test_on_a_terminal_each_failed_attempt_is_shown_with_its_retry(tmp_path):
    make_flow("flaky", retried(tmp_path, failures=1))

    code, output = runflow_on_a_terminal(tmp_path, "flaky")

    assert code == 0, output
    assert (
        "✘ fetch (Resuming.fail_times) attempt 1 of 3 failed: ConnectionError: attempt 1 refused;"
        " retrying in 0.0 s"
    ) in screen(output)
