from django.conf import settings

from runner.engine import Diagnostic, FlowAnalysis, analyse_flow, validate_flow

# The editor lists this many diagnostics beside the text and counts the others: a 5 MB
# definition can hold a million problems.
MAX_LISTED = 100


def flow_diagnostics(flow_json: str) -> list[Diagnostic]:
    """Every problem in a flow definition: none when it can run.

    The one validator behind the CLI, the admin form and the editor.
    """
    _, diagnostics = validate_flow(flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES)
    return diagnostics


def flow_analysis(flow_json: str) -> FlowAnalysis:
    """The editor's view of a definition: the first MAX_LISTED diagnostics, how many there
    are, and every step with its references (what the diagram draws)."""
    return analyse_flow(flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES, max_diagnostics=MAX_LISTED)
