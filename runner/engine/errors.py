"""The engine's domain errors: each message says what went wrong and where, for a user to act on."""


class FlowError(Exception):
    """Base of every error a run raises; ``step`` is the failing step's name, or None."""

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message)
        self.step = step


class ParameterResolutionError(FlowError):
    """A ``@reference`` in a step's params could not be resolved; the flow stops."""


class ProcedureFailed(FlowError):
    """A procedure raised; the original exception is ``__cause__``, ``attempts`` how many
    attempts the step made (more than 1 under a retry policy)."""

    def __init__(self, message: str, *, step: str | None = None, attempts: int = 1) -> None:
        super().__init__(message, step=step)
        self.attempts = attempts


class InvalidStepResult(FlowError):
    """A procedure returned something other than a dict."""


class ProcedureLoadError(FlowError):
    """A step's procedure is missing or not allowed; ``code`` is the matching diagnostic code."""

    def __init__(self, message: str, *, code: str, field: str, step: str | None = None) -> None:
        super().__init__(message, step=step)
        self.code = code
        self.field = field


class RunCancelled(FlowError):
    """The run was cancelled; ``step`` is the step that did not start."""
