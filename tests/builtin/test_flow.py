"""flow.Flow.run: a sub-flow executed inside the calling run (its supervised child process),
recorded as a run of its own and linked both ways; failures, the depth limit and a cancel."""

import threading
import time

import pytest
from django.db import connection

from flows.models import Flow, SysLog
from runner import services
from runner.models import Run, RunStep
from tests.factories import make_flow, step
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def call(name: str, flow, **params) -> dict:
    return step(name, "run", "flow.Flow", flow=flow, **params)


def test_a_sub_flow_returns_its_final_context_and_is_a_linked_run(execute):
    make_flow("child", step("greet", msg="@_input.who"))
    parent = make_flow(
        "parent", call("sub", "child", input={"who": "Ann"}), step("say", msg="@sub.context.greet.msg")
    )

    run = execute(parent)

    assert run.status == "succeeded", run.error
    sub = Run.objects.get(flow_name="child")
    assert run.context["sub"] == {
        "run_id": sub.pk,
        "status": "succeeded",
        "context": {"_input": {"who": "Ann"}, "greet": {"msg": "Ann"}},
    }
    assert run.context["say"] == {"msg": "Ann"}
    assert (sub.status, sub.trigger, sub.triggered_by) == ("succeeded", "subflow", f"run {run.pk}")
    assert sub.parent_run_id == run.pk
    assert list(run.subflow_runs.all()) == [sub]
    assert [(s.name, s.status) for s in sub.steps.all()] == [("greet", "succeeded")]


def test_the_sub_runs_lines_are_its_own_and_written_once(execute):
    make_flow("child", step("greet", msg="hello from the child"))
    parent = make_flow("parent", call("sub", "child"))

    run = execute(parent)

    sub = Run.objects.get(flow_name="child")
    lines = SysLog.objects.of_logger_tree(f"workflow.run.{sub.pk}")
    assert lines.filter(message="msg=hello from the child").count() == 1
    assert lines.filter(message=f"run {sub.pk} of flow child started").count() == 1
    assert (
        not SysLog.objects.of_logger_tree(f"workflow.run.{run.pk}").filter(message__contains="hello").exists()
    )
    # Its lines were written by the calling run's worker, after the sub-run ended: only the
    # lower bound of their ids is known then.
    assert sub.log_last_id is None
    assert sub.log_first_id <= lines.order_by("id").first().id


def test_a_failing_sub_flow_fails_the_step_naming_the_sub_run(execute):
    make_flow("child", step("ok", msg="hi"), step("bad", "boom", "Testing", why="no luck"))
    parent = make_flow("parent", call("sub", "child"), step("after", msg="never"))

    run = execute(parent)

    sub = Run.objects.get(flow_name="child")
    assert (run.status, run.failed_step) == ("failed", "sub")
    assert run.error == (
        f"sub (flow.Flow.run) failed: SubflowError: sub-flow 'child' (run {sub.pk}) failed at step bad: "
        "bad (Testing.boom) failed: ValueError: no luck"
    )
    assert (sub.status, sub.parent_run_id) == ("failed", run.pk)


def test_an_unknown_flow_fails_the_step_clearly(execute):
    parent = make_flow("parent", call("sub", "@_input.name"))

    run = execute(parent, {"name": "nowhere"})

    assert run.error == (
        "sub (flow.Flow.run) failed: SubflowError: sub-flow 'nowhere' cannot start: flow 'nowhere' not found"
    )


def test_an_input_the_sub_flow_refuses_fails_the_step(execute):
    Flow.objects.create(
        flow_name="child",
        flow_json='{"inputs": {"n": {"type": "integer", "required": true}}, '
        '"procedures": [{"name": "s", "mod": "common.Kt", "method": "prt", "params": {"msg": "@_input.n"}}]}',
    )
    parent = make_flow("parent", call("sub", "child", input={"n": "seven"}))

    run = execute(parent)

    assert run.status == "failed"
    assert "sub-flow 'child' cannot start: the run input does not fit the flow's inputs" in run.error
    assert not Run.objects.filter(flow_name="child").exists()


def test_a_flow_calling_itself_through_a_reference_stops_at_the_depth_limit(execute, settings):
    settings.WORKFLOW_SUBFLOW_MAX_DEPTH = 2
    loop = make_flow("loop", call("again", "@_input.next", input={"next": "loop"}))

    run = execute(loop, {"next": "loop"})

    runs = list(Run.objects.order_by("pk"))
    assert [(r.flow_name, r.status, r.parent_run_id) for r in runs] == [
        ("loop", "failed", None),
        ("loop", "failed", runs[0].pk),
        ("loop", "failed", runs[1].pk),
    ]
    deepest = runs[2]
    assert (
        f"sub-flow 'loop' not started: it would be 3 levels deep, beyond WORKFLOW_SUBFLOW_MAX_DEPTH (2); "
        f"the runs: loop (run {runs[0].pk}) → loop (run {runs[1].pk}) → loop (run {runs[2].pk})"
    ) in deepest.error
    assert f"(run {runs[1].pk}) failed at step again" in run.error


def test_a_cancel_of_the_calling_run_cancels_the_sub_run(execute):
    make_flow("child", step("pause", "sleep", "wait.Wait", seconds=60))
    parent = make_flow("parent", call("sub", "child"), step("after", msg="never"))
    cancelled_at = []

    def cancel_when_the_sub_flow_waits():
        try:
            wait_until(lambda: RunStep.objects.filter(name="pause", status="running").exists(), timeout=30)
            cancelled_at.append(time.monotonic())
            services.request_cancel(Run.objects.get(flow_name="parent").pk)
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_when_the_sub_flow_waits)
    canceller.start()
    run = execute(parent)
    canceller.join()

    sub = Run.objects.get(flow_name="child")
    assert (
        time.monotonic() - cancelled_at[0] < 4
    )  # two polls of 0.5 s and the relay's 0.2 s, not a grace period
    assert sub.cancel_requested
    assert "run cancelled while its sub-flow 'child' ran" in run.error
    assert not run.steps.filter(name="after").exists()


def test_a_sub_flow_step_outside_a_recorded_run_is_refused(logger):
    from builtin.flow.Flow import Flow as FlowProcedure
    from runner.subflows import SubflowError

    with pytest.raises(SubflowError, match="a sub-flow runs inside a recorded run"):
        FlowProcedure(logger).run({}, {"flow": "child"})


def test_the_run_document_links_the_sub_run_and_its_caller_both_ways(execute):
    from runner.outcome import run_document

    make_flow("child", step("greet", msg="hi"))
    run = execute(make_flow("parent", call("sub", "child")))

    sub = Run.objects.get(flow_name="child")
    assert run_document(run)["subflow_runs"] == [sub.pk]
    assert run_document(sub)["parent_run"] == run.pk
    assert run_document(sub)["subflow_runs"] == []


def test_a_secret_given_as_a_sub_flows_input_is_refused_rather_than_stored(execute, monkeypatch):
    monkeypatch.setenv("WORKFLOW_SECRET_SUBFLOW_PW", "hunter2-sub")
    make_flow("child", step("greet", msg="@_input.pw"))
    run = execute(make_flow("parent", call("sub", "child", input={"pw": "@_secret.SUBFLOW_PW"})))

    assert run.status == "failed"
    assert "holds a secret's value" in run.error
    assert not Run.objects.filter(flow_name="child").exists()


def test_the_run_pages_link_the_sub_run_and_its_caller_both_ways(execute, admin_client):
    make_flow("child", step("greet", msg="hi"))
    run = execute(make_flow("parent", call("sub", "child")))
    sub = Run.objects.get(flow_name="child")

    caller_page = admin_client.get(f"/runs/{run.pk}/").content.decode()
    sub_page = admin_client.get(f"/runs/{sub.pk}/").content.decode()

    assert f'<a href="/runs/{sub.pk}/">run {sub.pk}</a>\n  (child, succeeded)' in caller_page
    assert f'id="parent-run">run {run.pk}</a>' in sub_page
