from django.conf import settings

from runner.engine import Diagnostic, validate_flow


def flow_diagnostics(flow_json: str) -> list[Diagnostic]:
    """Every diagnostic of a flow definition (no error ones when it can run).

    The one validator behind the CLI, the admin form and the editor.
    """
    _, diagnostics = validate_flow(flow_json, packages=settings.WORKFLOW_PROCEDURE_PACKAGES)
    return diagnostics


def flow_errors(flow_json: str) -> list[Diagnostic]:
    return [d for d in flow_diagnostics(flow_json) if d.severity == "error"]
