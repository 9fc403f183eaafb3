"""The workflow engine: validate and run JSON flows. Pure Python; imports nothing from Django."""

from .catalogue import CatalogueEntry, list_procedures
from .declare import Declaration, Param, Result, declaration_of
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
from .inputs import (
    INPUT_TYPES,
    InputSpec,
    check_input,
    declared_inputs,
    read_declaration,
    typed_text,
    untyped_text,
)
from .jsontext import JSONNumberError, number_problem, parse_json
from .notify import NOTIFY_EVENTS, NotifyRule
from .retry import RetryPolicy, is_retryable, retry_delay

__all__ = [
    "INPUT_TYPES",
    "NOTIFY_EVENTS",
    "NO_STEP",
    "RUN_DATA",
    "CatalogueEntry",
    "Declaration",
    "Diagnostic",
    "FlowAnalysis",
    "FlowDefinition",
    "FlowError",
    "FrozenDict",
    "FrozenList",
    "InputSpec",
    "InvalidStepResult",
    "JSONNumberError",
    "NotifyRule",
    "Param",
    "ParameterResolutionError",
    "Procedure",
    "ProcedureFailed",
    "ProcedureLoadError",
    "Reference",
    "Result",
    "RetryPolicy",
    "RunCancelled",
    "RunInfo",
    "RunListener",
    "StepOutline",
    "analyse_flow",
    "check_input",
    "declaration_of",
    "declared_inputs",
    "freeze",
    "is_retryable",
    "list_procedures",
    "number_problem",
    "parse_json",
    "read_declaration",
    "retry_delay",
    "run_flow",
    "thaw",
    "typed_text",
    "untyped_text",
    "validate_flow",
]  # fmt: skip
