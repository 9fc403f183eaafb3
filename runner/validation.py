import threading

from django.conf import settings

from alerts.models import Channel
from runner.engine import Diagnostic, FlowAnalysis, FlowDefinition, analyse_flow

# The editor lists this many diagnostics beside the text and counts the others: a 5 MB
# definition can hold a million problems.
MAX_LISTED = 100


def flow_diagnostics(flow_json: str, *, check_channels: bool = True) -> list[Diagnostic]:
    """Every problem in a flow definition: none when it can run.

    The one validator behind the CLI, the admin form and the editor. `check_channels=False`
    leaves out the names of channels that do not exist (starting a run: a removed channel
    must not stop a flow from running; its notifications are recorded as failed instead).
    """
    analysis = analyse_flow(flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES)
    if not check_channels:
        return analysis.diagnostics
    return analysis.diagnostics + unknown_channels(analysis)


def checked_definition(flow_json: str) -> tuple[FlowDefinition | None, list[Diagnostic]]:
    """The definition a run would use and its problems (channels left out, as when starting
    a run): one analysis gives both the verdict and the declared inputs.

    A definition found valid is remembered for the run that starts next in this process
    (`runflow` creates the run and executes it): see definition_to_run."""
    packages = tuple(settings.WORKFLOW_PROCEDURE_PACKAGES)
    analysis = analyse_flow(flow_json, packages=packages)
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


def flow_analysis(flow_json: str) -> FlowAnalysis:
    """The editor's view of a definition: the first MAX_LISTED diagnostics, how many there
    are, and every step with its references (what the diagram draws)."""
    analysis = analyse_flow(
        flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES, max_diagnostics=MAX_LISTED
    )
    unknown = unknown_channels(analysis)
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
