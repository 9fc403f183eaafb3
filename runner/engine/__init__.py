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
from .freeze import FrozenDict, FrozenList, freeze, thaw
from .jsontext import JSONNumberError, number_problem, parse_json
from .notify import NOTIFY_EVENTS, NotifyRule
from .retry import RetryPolicy, is_retryable, retry_delay

__all__ = [
    "NOTIFY_EVENTS", "NO_STEP", "RUN_DATA", "Diagnostic", "FlowAnalysis", "FlowDefinition", "FlowError",
    "FrozenDict", "FrozenList", "InvalidStepResult", "JSONNumberError", "NotifyRule",
    "ParameterResolutionError", "Procedure", "ProcedureFailed", "ProcedureLoadError", "Reference",
    "RetryPolicy", "RunCancelled", "RunInfo", "RunListener", "StepOutline", "analyse_flow", "freeze",
    "is_retryable", "number_problem", "parse_json", "retry_delay", "run_flow", "thaw", "validate_flow",
]  # fmt: skip
