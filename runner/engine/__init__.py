"""The workflow engine: validate and run JSON flows. Pure Python; imports nothing from Django."""

from .definition import (
    NO_STEP,
    RUN_DATA,
    FlowAnalysis,
    FlowDefinition,
    Procedure,
    Reference,
    StepOutline,
    analyse_flow,
    validate_flow,
)
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
from .jsontext import JSONNumberError, number_problem, parse_json

__all__ = [
    "NO_STEP", "RUN_DATA", "Diagnostic", "FlowAnalysis", "FlowDefinition", "FlowError", "FrozenDict",
    "FrozenList", "InvalidStepResult", "JSONNumberError", "ParameterResolutionError", "Procedure",
    "ProcedureFailed", "ProcedureLoadError", "Reference", "RunCancelled", "RunInfo", "RunListener",
    "StepOutline", "analyse_flow", "freeze", "number_problem", "parse_json", "run_flow", "validate_flow",
]  # fmt: skip
