"""Sub-flows: a step that runs another flow and returns its final context (builtin flow.Flow.run).

The sub-flow's run is a run of its own (trigger "subflow", `parent_run` the calling run),
created by services.create_run and executed by services.execute_run right here, in the
process running the calling step: the child process of the parent run's supervisor. Like
any worker, execute_run forks a child of its own and supervises it (timeouts, crashes,
cancel); nothing goes through the queue, so a busy worker never waits for a run that only
it could take. docs/builtin.md has the rules.
"""

import contextlib
import logging
import os
import threading

from django.conf import settings
from django.db import connections
from django.db.models import BigIntegerField, Value
from django.db.models.functions import Coalesce

from flows.models import SysLog
from runner import engine, masking, services
from runner import log as runlog
from runner.engine import runtime
from runner.models import Run

logger = logging.getLogger(__name__)

TRIGGER = "subflow"
RELAY_SECONDS = 0.2  # how often a cancel of the calling run is looked for while a sub-flow runs


class SubflowError(Exception):
    """The sub-flow could not start, or did not succeed; the message names its run."""


def run_subflow(flow_name: str, input: dict) -> dict:
    """Run the flow called flow_name with input as a sub-flow of the run whose step is running.

    Returns the sub-run's id, status and final context (its input and step results); raises
    SubflowError when it cannot start or does not succeed, RunCancelled when the calling run
    was cancelled meanwhile.
    """
    controls = runtime.current()
    if controls is None or not isinstance(controls.run_id, int) or isinstance(controls.run_id, bool):
        raise SubflowError("a sub-flow runs inside a recorded run: start the calling flow as a run")
    parent = controls.run_id
    chain = ancestry(parent)
    if len(chain) > settings.WORKFLOW_SUBFLOW_MAX_DEPTH:
        runs = " → ".join(f"{name} (run {pk})" for pk, name in reversed(chain))
        raise SubflowError(
            f"sub-flow {flow_name!r} not started: it would be {len(chain)} levels deep, beyond "
            f"WORKFLOW_SUBFLOW_MAX_DEPTH ({settings.WORKFLOW_SUBFLOW_MAX_DEPTH}); the runs: {runs}"
        )
    if masking.revealed.data(input) != input:
        # The sub-run's input is stored as given: a secret's value would land in its record.
        raise SubflowError(
            f"sub-flow {flow_name!r} not started: its input holds a secret's value, which a run's "
            'input never stores; let the sub-flow read it itself with "@_secret.NAME"'
        )
    run = _create(flow_name, input, parent)
    since = _newest_log_id()
    with _records_stay_in_this_process(), _CancelRelay(controls.should_cancel, run.pk):
        ended = services.execute_run(run.pk)
    _forget_log_end(run.pk, since)
    if ended.status == Run.Status.SUCCEEDED:
        return {"run_id": ended.pk, "status": "succeeded", "context": final_context(ended.context)}
    if runtime.cancel_requested():  # the sub-run stopped because the calling run was cancelled
        raise engine.RunCancelled(f"run cancelled while its sub-flow {flow_name!r} ran (run {ended.pk})")
    where = f" at step {ended.failed_step}" if ended.failed_step else ""
    raise SubflowError(f"sub-flow {flow_name!r} (run {ended.pk}) {ended.status}{where}: {ended.error}")


def ancestry(run_id: int) -> list[tuple[int, str]]:
    """(id, flow name) of the run and of its parents, nearest first; at most one more than
    the depth limit (enough to tell that it is passed)."""
    chain: list[tuple[int, str]] = []
    while run_id is not None and len(chain) <= settings.WORKFLOW_SUBFLOW_MAX_DEPTH:
        row = Run.objects.filter(pk=run_id).values_list("pk", "flow_name", "parent_run_id").first()
        if row is None:
            break
        chain.append((row[0], row[1]))
        run_id = row[2]
    return chain


def final_context(context: dict | None) -> dict:
    """What a sub-flow gives back: its input and its steps' results (not _runtime)."""
    return {k: v for k, v in (context or {}).items() if k == "_input" or not k.startswith("_")}


def _create(flow_name: str, input: dict, parent: int) -> Run:
    def link(run: Run) -> None:
        # In create_run's transaction: the run never exists unlinked.
        Run.objects.filter(pk=run.pk).update(parent_run_id=parent)

    try:
        flow = services.runnable_flow(flow_name)
        return services.create_run(
            flow, input=input, trigger=TRIGGER, triggered_by=f"run {parent}", on_created=link
        )
    except services.CannotStart as err:
        problems = "".join(f"; {d.path}: {d.message}" for d in err.diagnostics[:3])
        raise SubflowError(f"sub-flow {flow_name!r} cannot start: {err}{problems}") from err


def _newest_log_id() -> int | None:
    try:
        return SysLog.objects.using(runlog.log_database()).newest_id()
    except Exception:
        logger.warning("could not read wf_syslog ids", exc_info=True)
        return None


def _forget_log_end(run_id: int, since: int | None) -> None:
    # The sub-run's lines go to the calling run's worker, which writes them a moment later:
    # the last id execute_run found may not be its last line, and it may have found none.
    first = Value(since + 1 if since is not None else None, output_field=BigIntegerField())
    Run.objects.filter(pk=run_id).update(log_first_id=Coalesce("log_first_id", first), log_last_id=None)


@contextlib.contextmanager
def _records_stay_in_this_process():
    """While the sub-run executes, the "workflow" handlers of this process write only here.

    The sub-run's supervisor forks a child that inherits them. In a run's child process the
    handler sends each record up to the parent, and the sub-run's child must not write on
    that pipe too: it sends its records to this process, which passes them on.
    """
    here = os.getpid()

    def in_this_process(record: logging.LogRecord) -> bool:
        return os.getpid() == here

    handlers = list(logging.getLogger(runlog.ROOT_LOGGER).handlers)
    for handler in handlers:
        handler.addFilter(in_this_process)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(in_this_process)


class _CancelRelay:
    """While the sub-run executes: a cancel of the calling run cancels the sub-run too."""

    def __init__(self, should_cancel, run_id: int) -> None:
        self.should_cancel, self.run_id = should_cancel, run_id
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name=f"subflow-cancel-{run_id}", daemon=True)

    def __enter__(self) -> "_CancelRelay":
        if self.should_cancel is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join()

    def _watch(self) -> None:
        try:
            while not self.done.wait(RELAY_SECONDS):
                if self.should_cancel():
                    services.request_cancel(self.run_id)
                    return
        except Exception:
            logger.warning("run %s: could not pass a cancel on to this sub-run", self.run_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own
