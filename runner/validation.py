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
    a run): one analysis gives both the verdict and the declared inputs."""
    analysis = analyse_flow(flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES)
    return analysis.definition, analysis.diagnostics


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
