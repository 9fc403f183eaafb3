import threading
from collections.abc import Mapping

from django.conf import settings

from alerts.models import Channel
from flows.models import Flow
from runner.engine import RUN_DATA, Diagnostic, FlowAnalysis, FlowDefinition, analyse_flow, parse_json
from runner.engine.loader import ProcedureLoader
from runner.engine.references import SECRET_ROOT, param_path
from vault import store as secret_store

# The editor lists this many diagnostics beside the text and counts the others: a 5 MB
# definition can hold a million problems.
MAX_LISTED = 100


def flow_diagnostics(
    flow_json: str, *, check_channels: bool = True, flow_name: str | None = None
) -> list[Diagnostic]:
    """Every problem in a flow definition: none when it can run.

    The one validator behind the CLI, the admin form and the editor. `check_channels=False`
    leaves out the names of channels that do not exist (starting a run: a removed channel
    must not stop a flow from running; its notifications are recorded as failed instead).
    With `flow_name`, the name the definition is saved under, a literal sub-flow call that
    leads back to the flow is a problem too (subflow_cycle).
    """
    analysis = analyse_flow(flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES)
    if flow_name is not None and (cycle := subflow_cycle(flow_name, analysis)):
        analysis = with_problems(analysis, cycle)
    secrets = unknown_secrets(flow_json, analysis)
    if not check_channels:
        return analysis.diagnostics + secrets
    return analysis.diagnostics + unknown_channels(analysis) + secrets


def checked_definition(
    flow_json: str, *, flow_name: str | None = None
) -> tuple[FlowDefinition | None, list[Diagnostic]]:
    """The definition a run would use and its problems (channels left out, as when starting
    a run): one analysis gives both the verdict and the declared inputs. With `flow_name`, a
    literal sub-flow call back to the flow is a problem (subflow_cycle).

    A definition found valid is remembered for the run that starts next in this process
    (`runflow` creates the run and executes it): see definition_to_run."""
    packages = tuple(settings.WORKFLOW_PROCEDURE_PACKAGES)
    analysis = analyse_flow(flow_json, packages=packages)
    if flow_name is not None and (cycle := subflow_cycle(flow_name, analysis)):
        return None, cycle
    if analysis.definition is not None:
        _recent.remember((flow_json, packages), analysis.definition)
    return analysis.definition, analysis.diagnostics


def definition_to_run(flow_json: str) -> tuple[FlowDefinition | None, list[Diagnostic]]:
    """checked_definition for a run about to execute: the same text with the same packages,
    checked moments ago in this process, is not analysed again (12 µs a step: 0.1 s for a
    flow of 10,000). Only a valid verdict is reused; a problem is always looked at afresh, as
    the module it missed may have been added since."""
    definition = _recent.get((flow_json, tuple(settings.WORKFLOW_PROCEDURE_PACKAGES)))
    return (definition, []) if definition is not None else checked_definition(flow_json)


class _Recent:
    """The last few valid definitions by (text, packages); a definition is immutable, so
    runs may share one."""

    SIZE = 4

    def __init__(self) -> None:
        self._items: dict[tuple[str, tuple], FlowDefinition] = {}
        self._lock = threading.Lock()

    def remember(self, key: tuple[str, tuple], definition: FlowDefinition) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = definition
            while len(self._items) > self.SIZE:
                del self._items[next(iter(self._items))]

    def get(self, key: tuple[str, tuple]) -> FlowDefinition | None:
        with self._lock:
            return self._items.get(key)


_recent = _Recent()


def flow_analysis(flow_json: str, *, flow_name: str | None = None) -> FlowAnalysis:
    """The editor's view of a definition: the first MAX_LISTED diagnostics, how many there
    are, and every step with its references (what the diagram draws). With `flow_name`, the
    sub-flow cycles through the flow are among them (subflow_cycle)."""
    analysis = analyse_flow(
        flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES, max_diagnostics=MAX_LISTED
    )
    if flow_name is not None and (cycle := subflow_cycle(flow_name, analysis)):
        analysis = with_problems(analysis, cycle)
    unknown = unknown_channels(analysis) + unknown_secrets(flow_json, analysis)
    if not unknown:
        return analysis
    listed = analysis.diagnostics + unknown[: max(0, MAX_LISTED - len(analysis.diagnostics))]
    return FlowAnalysis(
        None, listed, analysis.problem_count + len(unknown), analysis.steps, analysis.channels
    )


def unknown_channels(analysis: FlowAnalysis) -> list[Diagnostic]:
    """A diagnostic for each channel that the notify rules name and no channel row has."""
    named = {name for _, name in analysis.channels}
    if not named:
        return []
    known = set(Channel.objects.filter(name__in=named).values_list("name", flat=True))
    return [
        Diagnostic(
            "UNKNOWN_CHANNEL", path, f'no channel is named "{name}": add it on the Channels page first'
        )
        for path, name in analysis.channels
        if name not in known
    ]


def unknown_secrets(flow_json: str, analysis: FlowAnalysis) -> list[Diagnostic]:
    """A diagnostic for each "@_secret.NAME" whose NAME neither the environment
    (WORKFLOW_SECRET_NAME, of this process: the site's processes share one environment file)
    nor the secrets table has. One query when the flow names secrets, none otherwise."""
    prefix = f"@{SECRET_ROOT}."
    named = {
        reference.text[len(prefix) :]
        for outline in analysis.steps
        for reference in outline.references
        if reference.root == SECRET_ROOT and reference.step == RUN_DATA
    }
    missing = named - secret_store.known(named) if named else set()
    if not missing:
        return []
    return [
        Diagnostic(
            "UNKNOWN_SECRET",
            path,
            f'"{prefix}{name}": no secret is named "{name}": {secret_store.where_secrets_come_from(name)}',
            step,
        )
        for path, step, name in _secret_references(flow_json, analysis, missing, prefix)
    ]


def _secret_references(flow_json: str, analysis: FlowAnalysis, names: set[str], prefix: str):
    """(path, step name, secret name) of each reference to one of `names`, in the text's order."""
    # Parsed again only here, for the paths: a flow naming a missing secret is rare.
    procedures = parse_json(flow_json)["procedures"]
    for outline in analysis.steps:
        if outline.references:  # the step's params are an object, references were read in it
            for location, name in _references_in(procedures[outline.index]["params"], [], names, prefix):
                yield f"procedures[{outline.index}].{param_path(tuple(location))}", outline.name, name


def _references_in(value, location: list, names: set[str], prefix: str):
    if isinstance(value, str):
        if value.startswith(prefix) and value[len(prefix) :] in names:
            yield list(location), value[len(prefix) :]
    elif isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _references_in(item, [*location, key], names, prefix)


# Sub-flows (builtin flow.Flow.run): the module and method of the procedure that runs a flow.
SUBFLOW_MODULE, SUBFLOW_METHOD = "builtin.flow.Flow", "run"


def subflow_cycle(flow_name: str, analysis: FlowAnalysis) -> list[Diagnostic]:
    """SUBFLOW_CYCLE for each step of the flow whose literal sub-flow call leads back to it.

    A call is literal when its params.flow is a string, not a reference; the flows it calls
    are read as stored. Through a reference the callee is known only at run time, where
    WORKFLOW_SUBFLOW_MAX_DEPTH stops a flow that runs itself.
    """
    if analysis.definition is None:
        return []  # its own problems first
    calls = _CallGraph()
    diagnostics = []
    for step in analysis.definition.procedures:
        callee = calls.literal_call(step.mod, step.method, step.params)
        path = calls.path(callee, flow_name) if callee is not None else None
        if path is not None:
            message = f'flow "{flow_name}" would run itself as a sub-flow: {" → ".join([flow_name, *path])}'
            where = f"procedures[{step.index}].params.flow"
            diagnostics.append(Diagnostic("SUBFLOW_CYCLE", where, message, step.name))
    return diagnostics


def with_problems(analysis: FlowAnalysis, problems: list[Diagnostic]) -> FlowAnalysis:
    """The analysis of a definition that cannot run, with more problems found around it."""
    return FlowAnalysis(
        None,
        analysis.diagnostics + problems,
        analysis.problem_count + len(problems),
        analysis.steps,
        analysis.channels,
    )


class _CallGraph:
    """The literal sub-flow calls of the stored flows, each flow read once, as needed."""

    def __init__(self) -> None:
        self.loader = ProcedureLoader(settings.WORKFLOW_PROCEDURE_PACKAGES)
        self.callees: dict[str, list[str]] = {}

    def literal_call(self, mod, method, params) -> str | None:
        """The flow a step runs, when it is the sub-flow procedure with a literal flow name."""
        if method != SUBFLOW_METHOD or not isinstance(mod, str) or not isinstance(params, Mapping):
            return None
        name = params.get("flow")
        if not isinstance(name, str) or (name[:1] == "@" and name[:2] != "@@"):
            return None
        if self.loader.problem(mod) is not None or self.loader.load_class(mod).__module__ != SUBFLOW_MODULE:
            return None
        return name[1:] if name[:2] == "@@" else name

    def path(self, start: str, goal: str) -> list[str] | None:
        """The shortest chain of literal calls from start to goal (both included), or None."""
        came_from: dict[str, str | None] = {start: None}
        level = [start]
        while level and goal not in came_from:
            self._read([name for name in level if name not in self.callees])
            following = []
            for name in level:
                for callee in self.callees[name]:
                    if callee not in came_from:
                        came_from[callee] = name
                        following.append(callee)
            level = following
        if goal not in came_from:
            return None
        path = [goal]
        while (before := came_from[path[-1]]) is not None:
            path.append(before)
        return path[::-1]

    def _read(self, names: list[str]) -> None:
        for name in names:
            self.callees[name] = []
        if not names:
            return
        for stored, text in Flow.objects.filter(flow_name__in=names).values_list("flow_name", "flow_json"):
            # MySQL compares names without case: a call of "billing" finds, and runs, the flow
            # stored as "Billing", so that flow's calls are the caller's next ones.
            askers = [stored] if stored in names else [n for n in names if n.casefold() == stored.casefold()]
            try:
                data = parse_json(text or "")
            except (ValueError, RecursionError):
                continue  # a flow that cannot be read calls nothing that can be told
            steps = data.get("procedures") if isinstance(data, dict) else None
            for step in steps if isinstance(steps, list) else ():
                if isinstance(step, dict):
                    callee = self.literal_call(step.get("mod"), step.get("method"), step.get("params"))
                    if callee is not None:
                        for name in askers:
                            self.callees[name].append(callee)
