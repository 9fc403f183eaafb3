"""`manage.py runflow NAME`: run one flow now, in this process (what cron calls);
`runflow --resume RUN_ID` resumes a failed run from its failed step.

Exit codes: 0 succeeded, 1 the run failed, 2 it could not start.
"""

import difflib
import getpass
import json
import logging
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser, OutputWrapper
from django.core.management.color import make_style, no_style
from django.db import DatabaseError, connection

from flows.models import Flow, SysLog
from runner import dispatch, services
from runner.engine import JSONNumberError, RunListener, parse_json
from runner.inputs import InputError, given_input, key_value_texts
from runner.log import console_threshold, setup_logging
from runner.log.pipeline import CLEAR_LINE
from runner.models import FlowGate, Run, RunStep
from runner.outcome import run_steps
from runner.resume import CannotResume
from runner.validation import flow_diagnostics

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_START = 0, 1, 2
SUGGESTIONS = 3  # flow names offered when the name given is not found
SUGGESTION_CANDIDATES = 10_000  # names compared at most (difflib's cost grows with each)


def input_options(pairs: list[str], input_json: str | None) -> tuple[dict, dict[str, str]]:
    """The run input of --input-json (JSON values, checked as given) and of the --input
    key=value pairs (texts, read by the type of the input they name; they override the same
    keys of --input-json): what services.run_input_for takes. Only their syntax is checked here."""
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
        return data, key_value_texts(pairs)
    except InputError as err:
        raise services.CannotStart(f"--input {err}") from err


def terminal_style(stream: OutputWrapper, *, no_color: bool, force_color: bool):
    """Colours for the lines a person reads on `stream`: none when it is not a terminal, when
    NO_COLOR is set to anything but "" (no-color.org) or with --no-color; --force-color wins."""
    if force_color or (stream.isatty() and not no_color and not os.environ.get("NO_COLOR")):
        return make_style(os.environ.get("DJANGO_COLORS", ""))
    return no_style()


class TerminalProgress(RunListener):
    """Step by step progress for a person watching a terminal: one line per step, shown
    while the step runs and completed in place when it ends (green, or red for a failure)."""

    def __init__(self, stream: OutputWrapper, style, reused_from: int | None = None) -> None:
        self.stream = stream
        self.style = style
        self.line_open = False
        self.reused_from = reused_from  # the run a resume takes its earlier results from

    def step_started(self, run, step) -> None:
        self.stream.write(f"▶ {step.label} …", ending="")
        self.line_open = True

    def step_reused(self, run, step, result) -> None:
        origin = f" from run {self.reused_from}" if self.reused_from else ""
        self.stream.write(f"{self.style.SUCCESS('↷')} {step.label} reused{origin}")

    def attempt_failed(self, run, step, attempt, error, duration, delay) -> None:
        # The step goes on: its line says so, and a new one shows the next attempt running.
        self._complete(self.style.WARNING(f"✘ {attempt_failure(step, attempt, error, delay)}"))
        self.stream.write(f"▶ {step.label} attempt {attempt + 1} …", ending="")
        self.line_open = True

    def step_finished(self, run, step, result, duration) -> None:
        self._complete(f"{self.style.SUCCESS('✔')} {step.label} {_duration(duration)}")

    def step_failed(self, run, step, error, duration) -> None:
        # The error itself is the run's last line (and the log's traceback is above it).
        self._complete(self.style.ERROR(f"✘ {step.label} failed after {_duration(duration)}"))

    def close(self) -> None:
        """End the line of a step that never ended (Ctrl-C, a lost database)."""
        if self.line_open:
            self.stream.write("")
            self.line_open = False

    def _complete(self, line: str) -> None:
        self.stream.write(f"{CLEAR_LINE}{line}")
        self.line_open = False


def attempt_failure(step, attempt: int, error: BaseException, delay: float) -> str:
    """The line of a failed attempt: fetch (mod.Kt.get) attempt 2 of 3 failed: E: ...; retrying in 20 s."""
    retry = getattr(step, "retry", None)
    of = f" of {retry.max_attempts}" if retry is not None else ""
    cause = error.__cause__ or error
    reason = _one_line(f"{type(cause).__name__}: {cause}")
    return f"{step.label} attempt {attempt}{of} failed: {reason}; retrying in {_seconds(delay)}"


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


class Command(BaseCommand):
    help = "Run a flow now. Exit code 0 succeeded, 1 the run failed, 2 it could not start."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="the flow's flow_name")
        parser.add_argument(
            "--resume",
            type=int,
            metavar="RUN_ID",
            help="resume that failed, cancelled or lost run from its failed step (instead of NAME)",
        )
        parser.add_argument(
            "--current-definition",
            action="store_true",
            help="with --resume: the flow's current definition, if no step before the failed one changed",
        )
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="run input (repeatable); KEY and VALUE are stripped; VALUE is read by the type the flow"
            " declares for KEY (string: the text as typed; integer, number, boolean: written as one;"
            " object, array: JSON); for a flow without declared inputs, JSON if it parses, else text",
        )
        parser.add_argument(
            "--input-json",
            metavar="JSON",
            help="run input as one JSON object, its values checked as given; --input wins for the same key",
        )
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
        resume_id, current_definition = options.get("resume"), options.get("current_definition", False)
        # Django styles all of stderr as errors on a terminal: each line here picks its own.
        self.stderr.style_func = None
        self.verbosity = options.get("verbosity", 1)
        self.paint = terminal_style(
            self.stderr,
            no_color=options.get("no_color", False),
            force_color=options.get("force_color", False),
        )
        try:
            _check_what_to_run(name, resume_id, input, input_json, check, concurrency, current_definition)
            if resume_id is not None:
                code = self._resume(resume_id, current_definition, queue, as_json)
            else:
                code = self._run(name, input, input_json, check, queue, concurrency, as_json)
        except (services.CannotStart, CannotResume) as err:
            for diagnostic in getattr(err, "diagnostics", ()):
                self.stderr.write(f"  {diagnostic.code} at {diagnostic.path}: {diagnostic.message}")
            for difference in getattr(err, "differences", ()):
                self.stderr.write(f"  {difference}")
            problems = getattr(err, "problems", None)  # services.BadInput: one line each
            for problem in problems or ():
                self.stderr.write(f"  {problem}")
            self.stderr.write(f"runflow: cannot start: {err}", style_func=self.paint.ERROR)
            if as_json:
                extra = {} if problems is None else {"problems": problems}
                self._print_json(None, name, "not_started", error=str(err), **extra)
            code = EXIT_CANNOT_START
        if code:
            sys.exit(code)

    def _run(self, name, pairs, input_json, check, queue, concurrency, as_json) -> int:
        setup_logging()
        values, texts = input_options(pairs, input_json)
        try:
            connection.ensure_connection()
        except Exception as err:
            raise services.CannotStart(f"database unavailable: {err}") from err
        if not _is_text(name):
            raise services.CannotStart(f"the flow name {name!r} is not UTF-8 text")
        try:
            flow = _runnable_flow(name)
        except DatabaseError as err:
            raise services.CannotStart(_database_problem(err)) from err
        if check:
            diagnostics = flow_diagnostics(flow.flow_json)
            if diagnostics:
                raise services.CannotStart(f"flow {name!r} is invalid", diagnostics)
            self.stdout.write(f"flow {name!r} is valid")
            return EXIT_OK
        # Read by the flow's declared inputs: `--input day=007` stays "007" for a string input.
        run_input = given_input(flow, values, texts)
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
            return self._queued(dispatch.start_run(flow, trigger="cli", **request), as_json)
        return self._execute_new(services.create_run(flow, trigger="cli", **request), as_json)

    def _resume(self, run_id: int, current_definition: bool, queue: bool, as_json: bool) -> int:
        setup_logging()
        try:
            connection.ensure_connection()
            # A run whose worker died is "running" until reaped: reap first, so it can resume.
            services.reap_lost_runs()
            run = services.create_resume_run(
                run_id,
                current_definition=current_definition,
                triggered_by=_os_user(),
                on_created=dispatch.hand_over if queue else None,
            )
        except DatabaseError as err:
            raise services.CannotStart(_database_problem(err)) from err
        return self._queued(run, as_json) if queue else self._execute_new(run, as_json)

    def _queued(self, run: Run, as_json: bool) -> int:
        if as_json:
            self._print_json(run.pk, run.flow_name, run.status)
        else:
            self.stdout.write(str(run.pk))
        return EXIT_OK

    def _execute_new(self, run: Run, as_json: bool) -> int:
        name = run.flow_name
        shows_progress = self.stderr.isatty() and not as_json and self.verbosity > 0
        progress = TerminalProgress(self.stderr, self.paint, run.resumed_from_id) if shows_progress else None
        try:
            run = self._execute(run, progress)
        except (SystemExit, KeyboardInterrupt) as err:
            # A procedure called sys.exit() or the user pressed Ctrl-C: the run is recorded
            # as failed ("interrupted"); this is a failed run, not one that could not start.
            self._fail(f"runflow: run {run.pk} failed: interrupted by {type(err).__name__}")
            return EXIT_FAILED
        except DatabaseError as err:
            # The flow may have run, but its outcome could not be recorded: not a success.
            self._fail(f"runflow: run {run.pk}: the database failed while recording it: {err}")
            return EXIT_FAILED
        if as_json:
            steps = run_steps(run)
            self._print_json(run.pk, name, run.status, run.context, run.error, run.failed_step, steps)
        elif progress is not None:
            self._summary(run)
        if run.status == Run.Status.SUCCEEDED:
            return EXIT_OK
        self._fail(f"runflow: run {run.pk} {run.status}: {_one_line(run.error)}")
        return EXIT_FAILED

    def _execute(self, run: Run, progress: TerminalProgress | None) -> Run:
        if progress is None and self.verbosity > 0:
            return services.execute_run(run.pk)
        # On a terminal the progress lines show each step once; with -v 0 (cron) a run that
        # goes well prints nothing. Either way only warnings and errors reach the console: the
        # file and wf_syslog get every line (execute_run flushes them before it returns).
        try:
            with console_threshold(logging.WARNING):
                return services.execute_run(run.pk, listeners=(progress,) if progress else ())
        finally:
            if progress is not None:
                progress.close()

    def _summary(self, run: Run) -> None:
        style = {Run.Status.SUCCEEDED: self.paint.SUCCESS, Run.Status.CANCELLED: self.paint.WARNING}
        self.stderr.write(
            f"run {run.pk} {run.status} in {run.duration or 0:.3f} s",
            style_func=style.get(run.status, self.paint.ERROR),
            ending="",
        )
        self.stderr.write(f" (log lines in {_shown_path(settings.WORKFLOW_LOG_FILE)})")

    def _fail(self, line: str) -> None:
        self.stderr.write(line, style_func=self.paint.ERROR)

    def _print_json(
        self, run_id, name, status, context=None, error="", failed_step="", steps=(), **extra
    ) -> None:
        outcome = {
            "run_id": run_id,
            "flow": name,
            "status": status,
            "context": context,
            "error": error or None,
            "failed_step": failed_step or None,
            "steps": list(steps),
            **extra,
        }
        # A name given in another encoding holds lone surrogates: \udcXX escapes keep the JSON exact.
        text = json.dumps(outcome, ensure_ascii=False, default=repr)
        self.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def _check_what_to_run(name, resume_id, pairs, input_json, check, concurrency, current_definition) -> None:
    """A flow NAME or --resume RUN_ID, each with the options that go with it."""
    if (name is None) == (resume_id is None):
        raise services.CannotStart("give a flow NAME or --resume RUN_ID (one of them)")
    if resume_id is None and current_definition:
        raise services.CannotStart("--current-definition goes with --resume")
    if resume_id is not None and (pairs or input_json is not None or check or concurrency):
        raise services.CannotStart(
            "--resume runs with the original run's input: no --input, --input-json, --check or --concurrency"
        )


def _runnable_flow(name: str) -> Flow:
    try:
        return services.runnable_flow(name)
    except services.CannotStart as err:
        if Flow.all_objects.filter(flow_name=name).exists():
            raise  # disabled or deleted: the reason says so
        raise services.CannotStart(f"{err}{_did_you_mean(name)}") from err


def _did_you_mean(name: str) -> str:
    """The hint "; did you mean 'a' or 'b'?" with the closest names of flows not deleted."""
    names = Flow.objects.values_list("flow_name", flat=True)[:SUGGESTION_CANDIDATES]
    matches = [repr(match) for match in difflib.get_close_matches(name, list(names), n=SUGGESTIONS)]
    if not matches:
        return ""
    listed = matches[0] if len(matches) == 1 else f"{', '.join(matches[:-1])} or {matches[-1]}"
    return f"; did you mean {listed}?"


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _shown_path(path: str) -> str:
    # Relative to the working directory when it is under it: shorter, and what the user typed.
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


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
