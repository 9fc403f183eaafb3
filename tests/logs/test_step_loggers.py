"""A run's lines say which step wrote them: while a step runs, the engine and the procedure log
through the step's child of the run's logger, `workflow.run.<id>.<step>`."""

import pytest

from flows.models import SysLog
from runner import services
from runner.models import Run
from tests.factories import make_flow, step
from tests.logs.conftest import log_lines

pytestmark = pytest.mark.django_db(transaction=True)


def execute(*steps: dict) -> Run:
    flow = make_flow("steps", *steps)
    run = services.create_run(flow, input={}, trigger="test", triggered_by="t")
    return services.execute_run(run.pk)


def lines_of(run: Run) -> list[tuple[str, str]]:
    rows = SysLog.objects.of_logger_tree(f"workflow.run.{run.pk}").order_by("id")
    return list(rows.values_list("logger_name", "message"))


def test_a_procedure_logs_through_the_logger_of_its_step(log_file):
    run = execute(step("greet", msg="hello"), step("shout", "echo", "Testing", text="HEY"))

    lines = lines_of(run)
    assert (f"workflow.run.{run.pk}.greet", "msg=hello") in lines
    assert (f"workflow.run.{run.pk}.shout", "echo {'text': 'HEY'}") in lines


def test_the_lines_before_and_after_the_steps_stay_on_the_run_logger(log_file):
    run = execute(step("greet", msg="hello"))

    lines = lines_of(run)
    assert lines[0] == (f"workflow.run.{run.pk}", f"run {run.pk} of flow steps started")
    assert lines[-1] == (f"workflow.run.{run.pk}", f"run {run.pk} of flow steps succeeded")


def test_a_failed_steps_error_is_on_its_step_and_inside_the_runs_log_range(log_file):
    run = execute(step("greet", msg="hello"), step("explode", "boom", "Testing", why="no fuel"))

    name, message = lines_of(run)[-1]
    assert (run.status, name) == ("failed", f"workflow.run.{run.pk}.explode")
    assert "no fuel" in message
    last = SysLog.objects.of_logger_tree(f"workflow.run.{run.pk}").order_by("id").last()
    assert run.log_last_id == last.pk


def test_the_console_and_file_line_still_names_the_procedure_that_logged(log_file):
    execute(step("greet", msg="hello"))

    assert [line for line in log_lines(log_file) if line.endswith(" INFO Kt prt msg=hello")]
