"""The workflow engine: validate and run JSON flows. Pure Python; imports nothing from Django."""

from .definition import FlowDefinition, Procedure, validate_flow
from .diagnostics import Diagnostic
from .errors import (
    FlowError,
    InvalidStepResult,
    ParameterResolutionError,
    ProcedureFailed,
    ProcedureLoadError,
    RunCancelled,
)
from .executor import RunInfo, RunListener, run_flow
from .freeze import FrozenDict, FrozenList, freeze

__all__ = [
    "Diagnostic", "FlowDefinition", "FlowError", "FrozenDict", "FrozenList", "InvalidStepResult",
    "ParameterResolutionError", "Procedure", "ProcedureFailed", "ProcedureLoadError", "RunCancelled",
    "RunInfo", "RunListener", "freeze", "run_flow", "validate_flow",
]  # fmt: skip
