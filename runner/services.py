"""The run lifecycle: create, claim, execute, cancel, reap; the one path every entry point takes.

Nothing here knows about queues: runner.dispatch hands runs to them, and the task bodies
(runner.tasks, runner.celery_tasks) call execute_run_task and watch_run.
"""

import logging
import os
import socket
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone

from alerts.outbox import may_notify, notify_run_finished
from flows.models import Flow, SysLog
from runner import engine, resume, supervisor
from runner import log as runlog
from runner.heartbeat import Heartbeat
from runner.jsonsafe import MAX_DEPTH, depth_of, json_safe, storable_result, storable_text
from runner.models import FlowGate, Run, RunStep
from runner.reconnect import CONNECTION_ERRORS, call_until
from runner.recording import RunRecorder
from runner.validation import checked_definition, definition_to_run

logger = logging.getLogger(__name__)


class CannotStart(Exception):
    """The run cannot start: unknown, deleted, disabled or invalid flow, bad input."""

    def __init__(self, message: str, diagnostics: list | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


def runnable_flow(name: str) -> Flow:
    """The enabled, not deleted flow called name, or CannotStart saying why not."""
    flow = Flow.all_objects.filter(flow_name=name).first()
    if flow is None:
        raise CannotStart(f"flow {name!r} not found")
    return ensure_runnable(flow)


def runnable_flow_of(run: Run) -> Flow:
    """The flow a run belonged to, found by id whatever it is called now, if it can run;
    never another flow that took its old name."""
    flow = Flow.all_objects.filter(pk=run.flow_id).first() if run.flow_id is not None else None
    if flow is None:
        raise CannotStart(f"flow {run.flow_name!r} of run {run.pk} no longer exists")
    return ensure_runnable(flow)


def ensure_runnable(flow: Flow) -> Flow:
    """The flow itself when it may run now, else CannotStart saying why not."""
    if flow.deleted:
        raise CannotStart(f"flow {flow.flow_name!r} is deleted")
    if not flow.enabled:
        raise CannotStart(f"flow {flow.flow_name!r} is disabled")
    return flow


CONCURRENCY_POLICIES = ("allow", "skip_if_running")
MAX_INPUT_DEPTH = MAX_DEPTH - 2  # the input is stored, and also appears in the context


class Skipped(CannotStart):
    """The flow is already queued or running and its policy is skip_if_running."""

    def __init__(self, message: str, active_run_id: int) -> None:
        super().__init__(message)
        self.active_run_id = active_run_id


def concurrency_policy(flow_name: str, requested: str | None = None) -> str:
    # The setting lists flow names: read with the flow's name at the time of the request.
    if requested is not None:
        if requested not in CONCURRENCY_POLICIES:
            raise CannotStart(f"concurrency must be one of {', '.join(CONCURRENCY_POLICIES)}")
        return requested
    return "skip_if_running" if flow_name in settings.WORKFLOW_SKIP_IF_RUNNING else "allow"


def input_problem(input: object) -> str | None:
    """Why a run input cannot be stored and used, or None: the rule of every entry point."""
    if not isinstance(input, dict):
        return "the run input must be a JSON object"
    if depth_of(input, MAX_INPUT_DEPTH + 1) > MAX_INPUT_DEPTH:
        return f"the run input is nested deeper than {MAX_INPUT_DEPTH} levels"
    if problem := engine.number_problem(input):
        return f"the run input cannot be stored: {problem}"
    if json_safe(input) != input:
        return "the run input holds text that is not valid Unicode"
    return None


def checked_input(specs: dict | None, values: dict, texts: dict[str, str] | None = None) -> dict:
    """The run input checked against declared inputs (engine.check_input: JSON values as
    given, key=value texts read by type, defaults applied), or BadInput listing every problem."""
    data, problems = engine.check_input(specs, values, texts)
    if problems:
        raise BadInput(problems)
    return data


def run_input_for(flow: Flow, values: dict, texts: dict[str, str] | None = None) -> dict:
    """checked_input against the inputs the flow's current definition declares: what an entry
    point that read key=value texts (the CLI, the web form) calls before create_run."""
    if problem := input_problem(values):
        raise CannotStart(problem)
    return checked_input(engine.declared_inputs(flow.flow_json), values, texts)


def create_run(
    flow: Flow,
    *,
    input: dict,
    trigger: str,
    triggered_by: str,
    concurrency: str | None = None,
    schedule_id: int | None = None,
    on_created: Callable[[Run], None] | None = None,
    definition: str | None = None,
    resumed_from_id: int | None = None,
) -> Run:
    """A queued run record of the flow, after checking that it can run and may start now.

    `on_created(run)` is called inside the transaction that creates the run (runner.dispatch
    writes the database queue's task row there, so both commit or neither does). A resume
    passes the definition it runs (by default the flow's current one) and the run it resumes.
    """
    definition = flow.flow_json if definition is None else definition
    # A channel removed since the flow was saved must not stop its runs: its notifications
    # are recorded as failed deliveries instead.
    parsed, errors = checked_definition(definition, flow_name=flow.flow_name)
    if errors:
        raise CannotStart(f"flow {flow.flow_name!r} is invalid: {len(errors)} problem(s)", errors)
    if problem := input_problem(input):
        raise CannotStart(problem)
    input = checked_input(parsed.inputs, input)
    policy = concurrency_policy(flow.flow_name, concurrency)
    if policy == "skip_if_running":
        ensure_gate(flow.pk)
    with transaction.atomic():
        if policy == "skip_if_running":
            # The row lock serializes run requests of one flow on MySQL; on SQLite the
            # IMMEDIATE transaction already holds the database's single write lock. Both
            # the gate and the runs are the flow's by id, so a rename changes nothing.
            FlowGate.objects.select_for_update().get(flow_id=flow.pk)
            active = Run.objects.active().filter(flow_id=flow.pk).first()
            if active is not None:
                raise Skipped(
                    f"flow {flow.flow_name!r} is already {active.status} (run {active.pk})", active.pk
                )
        run = Run.objects.create(
            flow_id=flow.pk,
            flow_name=flow.flow_name,
            definition=definition,
            input=input,
            trigger=trigger,
            triggered_by=triggered_by,
            schedule_id=schedule_id,
            resumed_from_id=resumed_from_id,
        )
        if on_created is not None:
            on_created(run)
    return run


def create_resume_run(
    original: Run | int,
    *,
    current_definition: bool = False,
    triggered_by: str = "",
    trigger: str = "resume",
    on_created: Callable[[Run], None] | None = None,
) -> Run:
    """A queued run resuming `original` (a run or its id) from its failed step, with the
    original's frozen definition and input, or the flow's current definition when asked and
    allowed (runner.resume has the rules). resume.CannotResume says why not."""
    original = original if isinstance(original, Run) else resume.find_run(original)
    point = resume.resumable(original)
    try:
        flow = runnable_flow_of(original)
        definition = resume.definition_for(original, flow, point, current_definition=current_definition)
        return create_run(
            flow,
            input=original.input,
            trigger=trigger,
            triggered_by=triggered_by,
            definition=definition,
            resumed_from_id=original.pk,
            on_created=on_created,
        )
    except CannotStart as err:
        raise resume.CannotResume(f"run {original.pk} cannot be resumed: {err}") from err


def ensure_gate(flow_id: int) -> None:
    """Create the flow's gate row, before and outside the transaction that locks it.

    On MySQL, two transactions inserting the same unique key and then locking it deadlock;
    created here, in autocommit, the row merely exists by the time anyone locks it.
    """
    if FlowGate.objects.filter(flow_id=flow_id).exists():
        return
    try:
        with transaction.atomic():
            FlowGate.objects.create(flow_id=flow_id)
    except IntegrityError:
        pass  # another request created it first


def fail_unqueued(run_id: int, reason: str) -> None:
    """A queued run the queue refused: failed with the reason rather than queued forever."""
    with transaction.atomic():
        changed = Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(
            status=Run.Status.FAILED, error=reason, finished_at=timezone.now()
        )
        if changed:
            _notify_ended([run_id])


def request_cancel(run_id: int, *, now: bool = False) -> Run:
    """Cancel a run: a queued one never starts, a running one stops before its next step, and
    its running step is stopped after the grace period, or at once when `now`."""
    fields = {"cancel_requested": True, "cancel_now": True} if now else {"cancel_requested": True}
    Run.objects.active().filter(pk=run_id).update(**fields)
    with transaction.atomic():
        changed = Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(
            status=Run.Status.CANCELLED, error="cancelled before it started", finished_at=timezone.now()
        )
        if changed:
            _notify_ended([run_id])
    return Run.objects.get(pk=run_id)


def reap_lost_runs() -> int:
    """Mark failed every running run whose heartbeat stopped: its worker died."""
    now = timezone.now()
    with transaction.atomic():
        lost = list(Run.objects.stale().values_list("pk", flat=True))
        if not lost:
            return 0
        RunStep.objects.filter(run_id__in=lost, status=RunStep.Status.RUNNING).update(
            status=RunStep.Status.FAILED, error="worker lost"
        )
        reaped = Run.objects.filter(pk__in=lost, status=Run.Status.RUNNING).update(
            status=Run.Status.FAILED, error="worker lost", finished_at=now
        )
        _notify_ended(
            Run.objects.filter(pk__in=lost, finished_at=now, error="worker lost").values_list("pk", flat=True)
        )
        return reaped


def _notify_ended(run_ids) -> None:
    """The notifications of runs that just got their final status, in the caller's
    transaction (so they exist exactly when the status does)."""
    for run in Run.objects.filter(pk__in=list(run_ids)):
        if may_notify(run.definition):
            _notify_quietly(run)


def _notify_quietly(run: Run) -> None:
    # In a savepoint: a rule that cannot be read must never undo the status it is about.
    try:
        with transaction.atomic():
            notify_run_finished(run)
    except CONNECTION_ERRORS:
        raise
    except Exception:
        logger.exception("run %s: its notifications could not be written", run.pk)


def watch_delay() -> float:
    """Seconds after a claim when a worker first checks the run's heartbeat."""
    return settings.WORKFLOW_WORKER_LOST_SECONDS + settings.WORKFLOW_HEARTBEAT_SECONDS


def watch_run(run_id: int) -> str:
    """Worker-side check of a running run: reap lost runs, return its status. The task that
    calls it checks again later while the status is "running"."""
    reap_lost_runs()
    status = Run.objects.filter(pk=run_id).values_list("status", flat=True).first()
    return status or "unknown"


def claim(run_id: int) -> bool:
    """Take a queued run for execution; exactly one caller wins, however often it is asked."""
    return Run.objects.claim(run_id, worker=f"{socket.gethostname()}:{os.getpid()}")


OUTCOME_FIELDS = [
    "status", "error", "traceback", "failed_step", "context", "finished_at", "log_first_id", "log_last_id",
]  # fmt: skip


def execute_run(run_id: int, listeners: tuple = (), *, on_claimed: Callable[[], None] | None = None) -> Run:
    """Claim the run and execute it with the engine, in a child process this one supervises
    (runner.supervisor: timeouts, forced cancel, crashes); returns the run as it ended.

    A run that another worker claimed, or that was cancelled before starting, is returned
    untouched (a queued-but-cancelled one is marked cancelled here). Whatever happens after
    the claim, the run gets a final status: a procedure calling sys.exit() or os._exit()
    fails its run, and a Ctrl-C of this process is recorded (then re-raised), so no run
    stays "running" behind a live process.
    `on_claimed()` is called once the run is claimed: the queue tasks schedule the
    worker-lost check there; in-process CLI runs pass nothing.
    """
    if not claim(run_id):
        with transaction.atomic():
            changed = Run.objects.filter(pk=run_id, status=Run.Status.QUEUED, cancel_requested=True).update(
                status=Run.Status.CANCELLED, finished_at=timezone.now()
            )
            if changed:
                _notify_ended([run_id])
        return Run.objects.get(pk=run_id)
    # With it, in the same query: whether its flow may still run (deleted or disabled while
    # the run waited in the queue).
    runnable = Flow.all_objects.runnable().filter(pk=OuterRef("flow_id"))
    run = Run.objects.annotate(flow_runnable=Exists(runnable)).get(pk=run_id)
    if on_claimed is not None:
        _watch_quietly(run.pk, on_claimed)
    recorder = RunRecorder(run)
    context = {"_runtime": {"run_id": run.pk, "flow_name": run.flow_name}, "_input": run.input}
    first_log_id = None
    # The heartbeat goes on while the outcome is recorded: that may wait for the database.
    with Heartbeat(run.pk):
        try:
            runlog.setup_logging()
            runlog.attach_database_handler()
            first_log_id = _quietly(lambda: _log_rows().newest_id())
            outcome = _run_engine(run, recorder, listeners)
        except engine.RunCancelled as err:
            outcome = supervisor.Outcome(Run.Status.CANCELLED, error=storable_text(err))
        except BaseException as err:
            _record_failure(run, err, recorder.failed_step)
            _finish(run, context, recorder, first_log_id)
            if not isinstance(err, Exception):
                raise  # KeyboardInterrupt, SystemExit of this process: recorded, and it still stops
            return run
        run.status, run.error, run.traceback = outcome.status, outcome.error, outcome.traceback
        run.failed_step = outcome.failed_step
        _finish(run, outcome.context or context, recorder, first_log_id)
    return run


def execute_run_task(run_id: int, on_claimed: Callable[[], None] | None = None) -> str:
    """The body of the queue tasks: execute_run, and nothing a run does escapes to the worker.

    Whatever escapes a run (a bug of ours, a database gone for longer than we wait, a
    procedure calling sys.exit()) is logged here and the worker goes on to the next run.
    """
    try:
        return execute_run(run_id, on_claimed=on_claimed).status
    except KeyboardInterrupt:
        raise  # the operator stopping the worker
    except BaseException:
        logger.exception("run %s: an error escaped the run; the worker goes on", run_id)
        return "error"


def _run_engine(run: Run, recorder: RunRecorder, listeners: tuple) -> supervisor.Outcome:
    if not run.flow_runnable:
        raise engine.RunCancelled(f"flow {run.flow_name!r} is deleted or disabled: the run did not start")
    definition, diagnostics = definition_to_run(run.definition)
    if definition is None:
        raise engine.FlowError("the definition is invalid: " + "; ".join(d.message for d in diagnostics))
    plan = resume.plan_for(run)
    recorder.reused_from_run_id = plan.reused_from_run_id
    # In a child process: a step that hangs can be stopped, and one that crashes the
    # interpreter fails its run, not this process.
    return supervisor.supervise(run, definition, plan, recorder, listeners)


def _finish(run: Run, context: dict, recorder: RunRecorder, first_log_id: int | None) -> None:
    run.context = {**{storable_text(k): storable_result(v) for k, v in context.items()}, **recorder.results}
    run.finished_at = timezone.now()
    runlog.flush_logs()
    # After flush_logs() and outside a transaction: on MySQL a transaction's snapshot may
    # predate the writer's rows.
    name = runlog.run_logger_name(run.pk)
    ids = _quietly(lambda: _log_id_range(name, first_log_id))
    run.log_first_id, run.log_last_id = ids or (None, None)
    seconds = settings.WORKFLOW_RECORD_RETRY_SECONDS
    try:
        call_until(lambda: _save_outcome(run, recorder), seconds=seconds, what=f"run {run.pk}")
    except CONNECTION_ERRORS:
        # The database stayed away: the run will be reaped as lost; its outcome is in our log.
        logger.error("run %s ended %s but could not be recorded: %s", run.pk, run.status, run.error)
        raise


def _log_id_range(name: str, since: int | None) -> tuple[int | None, int | None]:
    # The lines of the run's logger and of its steps' children: a failed step's error is the
    # run's last line, and above the INFO level a step's line may well be its first.
    lines = _log_rows().of_logger_tree(name)
    if since is not None:
        lines = lines.filter(id__gt=since)
    ids = lines.aggregate(first=Min("id"), last=Max("id"))  # one query, not two
    return ids["first"], ids["last"]


def _save_outcome(run: Run, recorder: RunRecorder) -> None:
    recorder.save_pending()  # the step rows not written yet, before the status that ends them
    try:
        # Only the outcome: a cancel request or heartbeat written meanwhile by others stays;
        # the notifications are written with it.
        _save_with_notifications(run)
        return
    except CONNECTION_ERRORS:
        raise
    except Exception as err:
        # Whatever the database refused in the context, the status must still land.
        logger.warning("run %s: the outcome could not be stored whole: %s", run.pk, err, exc_info=True)
        refused = storable_text(f"{type(err).__name__}: {err}")
    run.context = {"__unstorable__": f"the database refused the context: {refused}"}
    try:
        _save_with_notifications(run)
    except CONNECTION_ERRORS:
        raise
    except Exception:
        logger.exception("run %s: recording only its status", run.pk)
        error = f"the outcome could not be stored: {refused}"
        with transaction.atomic():
            Run.objects.filter(pk=run.pk).update(status=run.status, finished_at=run.finished_at, error=error)
            _notify_ended([run.pk])


def _save_with_notifications(run: Run) -> None:
    if not may_notify(run.definition):
        run.save(update_fields=OUTCOME_FIELDS)  # no rules: no transaction to pay for
        return
    with transaction.atomic():
        run.save(update_fields=OUTCOME_FIELDS)
        _notify_quietly(run)


def _log_rows():
    return SysLog.objects.using(runlog.log_database())


def _quietly(read):
    # The log table may be unreachable while the run's own database is fine: a run never
    # fails for want of its log id range (its lines are still found by logger name).
    try:
        return read()
    except Exception:
        logger.warning("could not read wf_syslog ids", exc_info=True)
        return None


def _watch_quietly(run_id: int, schedule: Callable[[], None]) -> None:
    # Liveness is checked by another worker later; a queue that cannot take the check
    # must not stop the run itself.
    try:
        schedule()
    except Exception:
        logger.warning("could not schedule the liveness check of run %s", run_id, exc_info=True)


def _record_failure(run: Run, err: BaseException, failed_step: str) -> None:
    outcome = supervisor.failure_of(err, failed_step)
    run.status, run.error, run.traceback = outcome.status, outcome.error, outcome.traceback
    run.failed_step = outcome.failed_step
    if isinstance(err, Exception) and not isinstance(err, engine.FlowError):
        # Not a flow's own failure: a bug on our side, worth the operator's attention.
        logger.error("run %s failed outside the flow", run.pk, exc_info=err)


class BadInput(CannotStart):
    """The run input does not fit the flow's declared inputs: `problems` lists every one,
    in the words every entry point shows (CLI exit 2, web 400, API 422, schedule "refused")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the run input does not fit the flow's inputs: " + "; ".join(problems))
        self.problems = problems
