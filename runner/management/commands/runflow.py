"""`manage.py runflow NAME`: run one flow now, in this process (what cron calls).

Exit codes: 0 succeeded, 1 the run failed, 2 it could not start.
"""

import getpass
import json
import sys

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection

from flows.models import Flow, SysLog
from runner import dispatch, services
from runner.engine import JSONNumberError, RunListener, parse_json
from runner.inputs import InputError, parse_key_values
from runner.log import setup_logging
from runner.models import FlowGate, Run, RunStep
from runner.validation import flow_diagnostics

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_START = 0, 1, 2


def parse_input(pairs: list[str], input_json: str | None) -> dict:
    """Run input from --input-json, then --input key=value pairs (runner.inputs' rule), which
    override the keys of --input-json."""
    data: dict = {}
    if input_json is not None:
        try:
            data = parse_json(input_json)
        except JSONNumberError as err:
            raise services.CannotStart(f"--input-json: {err}") from err
        except json.JSONDecodeError as err:
            raise services.CannotStart(f"--input-json is not valid JSON: {err}") from err
        except RecursionError as err:
            raise services.CannotStart("--input-json is nested too deeply") from err
        if not isinstance(data, dict):
            raise services.CannotStart("--input-json must be a JSON object")
    try:
        return data | parse_key_values(pairs)
    except InputError as err:
        raise services.CannotStart(f"--input {err}") from err


class TerminalProgress(RunListener):
    """Step by step progress for a person watching a terminal."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def step_started(self, run, step) -> None:
        self.stream.write(f"▶ {step.name} ({step.mod}.{step.method}) …\n")

    def step_finished(self, run, step, result, duration) -> None:
        self.stream.write(f"✔ {step.name} succeeded in {duration * 1000:.1f} ms\n")

    def step_failed(self, run, step, error, duration) -> None:
        self.stream.write(f"✘ {step.name} failed after {duration * 1000:.1f} ms: {error}\n")


class Command(BaseCommand):
    help = "Run a flow now. Exit code 0 succeeded, 1 the run failed, 2 it could not start."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the flow's flow_name")
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="run input (repeatable); KEY and VALUE are stripped; VALUE is JSON if it parses, else text",
        )
        parser.add_argument("--input-json", metavar="JSON", help="run input as one JSON object")
        parser.add_argument("--check", action="store_true", help="validate the flow only; run nothing")
        parser.add_argument(
            "--queue", action="store_true", help="hand the run to the workers instead; print its id and exit"
        )
        parser.add_argument(
            "--concurrency",
            choices=services.CONCURRENCY_POLICIES,
            help="allow (default) or skip_if_running; default from WORKFLOW_SKIP_IF_RUNNING",
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print one JSON object with the outcome"
        )

    def run_from_argv(self, argv):
        # Bad options are "could not start" (2), with a one-line reason, like every other case.
        try:
            super().run_from_argv(argv)
        except SystemExit as exit_:
            if exit_.code not in (None, 0):
                sys.exit(exit_.code if exit_.code in (1, 2) else EXIT_CANNOT_START)
            raise

    def handle(self, *args, name, input, input_json, check, queue, concurrency, as_json, **options):
        try:
            code = self._run(name, input, input_json, check, queue, concurrency, as_json)
        except services.CannotStart as err:
            for diagnostic in err.diagnostics:
                self.stderr.write(f"  {diagnostic.code} at {diagnostic.path}: {diagnostic.message}")
            self.stderr.write(f"runflow: cannot start: {err}")
            if as_json:
                self._print_json(None, name, "not_started", error=str(err))
            code = EXIT_CANNOT_START
        if code:
            sys.exit(code)

    def _run(self, name, pairs, input_json, check, queue, concurrency, as_json) -> int:
        setup_logging()
        run_input = parse_input(pairs, input_json)
        try:
            connection.ensure_connection()
        except Exception as err:
            raise services.CannotStart(f"database unavailable: {err}") from err
        if not _is_text(name):
            raise services.CannotStart(f"the flow name {name!r} is not UTF-8 text")
        try:
            flow = services.runnable_flow(name)
        except DatabaseError as err:
            raise services.CannotStart(_database_problem(err)) from err
        if check:
            diagnostics = flow_diagnostics(flow.flow_json)
            if diagnostics:
                raise services.CannotStart(f"flow {name!r} is invalid", diagnostics)
            self.stdout.write(f"flow {name!r} is valid")
            return EXIT_OK
        request = {"input": run_input, "triggered_by": _os_user(), "concurrency": concurrency}
        try:
            return self._start(flow, name, request, queue, as_json)
        except DatabaseError as err:
            raise services.CannotStart(_database_problem(err)) from err

    def _start(self, flow, name, request, queue, as_json) -> int:
        # Cron-only installs have no worker to notice a run whose process was killed:
        # each CLI run marks those first, so a stale "running" never blocks skip_if_running.
        services.reap_lost_runs()
        if queue:
            run = dispatch.start_run(flow, trigger="cli", **request)
            if as_json:
                self._print_json(run.pk, name, run.status)
            else:
                self.stdout.write(str(run.pk))
            return EXIT_OK
        run = services.create_run(flow, trigger="cli", **request)
        listeners = (TerminalProgress(self.stderr),) if not as_json and sys.stderr.isatty() else ()
        try:
            run = services.execute_run(run.pk, listeners=listeners)
        except (SystemExit, KeyboardInterrupt) as err:
            # A procedure called sys.exit() or the user pressed Ctrl-C: the run is recorded
            # as failed ("interrupted"); this is a failed run, not one that could not start.
            self.stderr.write(f"runflow: run {run.pk} failed: interrupted by {type(err).__name__}")
            return EXIT_FAILED
        except DatabaseError as err:
            # The flow may have run, but its outcome could not be recorded: not a success.
            self.stderr.write(f"runflow: run {run.pk}: the database failed while recording it: {err}")
            return EXIT_FAILED
        if as_json:
            self._print_json(run.pk, name, run.status, run.context, run.error, run.failed_step)
        elif listeners:
            self.stderr.write(f"run {run.pk} {run.status} in {run.duration or 0:.3f} s")
        if run.status == Run.Status.SUCCEEDED:
            return EXIT_OK
        self.stderr.write(f"runflow: run {run.pk} {run.status}: {_one_line(run.error)}")
        return EXIT_FAILED

    def _print_json(self, run_id, name, status, context=None, error="", failed_step="") -> None:
        outcome = {
            "run_id": run_id,
            "flow": name,
            "status": status,
            "context": context,
            "error": error or None,
            "failed_step": failed_step or None,
        }
        # A name given in another encoding holds lone surrogates: \udcXX escapes keep the JSON exact.
        text = json.dumps(outcome, ensure_ascii=False, default=repr)
        self.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def _is_text(name: str) -> bool:
    # Python turns argument bytes that are not UTF-8 into lone surrogates; no row holds those.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _database_problem(err: DatabaseError) -> str:
    """Why the database stopped the run before it started: tables that are missing, or the error."""
    needed = [model._meta.db_table for model in (Flow, SysLog, Run, RunStep, FlowGate)]
    try:
        existing = set(connection.introspection.table_names())
    except DatabaseError:
        existing = set(needed)  # cannot tell: the error itself is the reason
    if missing := [table for table in needed if table not in existing]:
        return (
            f"the database has no {', '.join(missing)} table{'s' if len(missing) > 1 else ''}:"
            " run `manage.py migrate` and `manage.py create_wf_tables`"
        )
    return f"the database refused the run: {_one_line(str(err))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
