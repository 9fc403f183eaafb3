"""The shapes of the API's requests and answers: what /api/v1/openapi.json publishes."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BeforeValidator, Field, WithJsonSchema

from runner.models import Run, RunStep

# Times are the run record's own ISO 8601 text (runner.outcome), published as date-time.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


def _rfc3339(value: object) -> datetime:
    # As the document says (format date-time): with its zone, never a bare number of seconds
    # (pydantic alone would read "0.5" as a Unix time).
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be a date-time with its zone, as in 2026-01-31T08:00:00Z")
    return datetime.fromisoformat(value.upper())


Rfc3339 = Annotated[
    datetime, BeforeValidator(_rfc3339), WithJsonSchema({"type": "string", "format": "date-time"})
]
RunStatus = Literal[tuple(Run.Status.values)]
StepStatus = Literal[tuple(RunStep.Status.values)]


class Diagnostic(Schema):
    code: str
    path: str
    message: str
    step: str | None = None


class Error(Schema):
    """Every refusal: a message a person can act on, and the details that apply."""

    message: str
    problems: list[str] | None = Field(None, description="each thing wrong with the request")
    diagnostics: list[Diagnostic] | None = Field(None, description="the definition's problems")
    run_id: int | None = Field(None, description="the run concerned, e.g. the active run that blocks a start")


class LastRun(Schema):
    run_id: int
    status: RunStatus
    created_at: IsoTime


class FlowItem(Schema):
    name: str
    enabled: bool
    description: str
    last_run: LastRun | None


class FlowPage(Schema):
    items: list[FlowItem]
    next: str | None = Field(description="the cursor of the next page; null on the last page")


class FlowOut(Schema):
    name: str
    enabled: bool
    definition: dict[str, Any] | None = Field(description="null when the stored text is not a JSON object")
    json_error: str | None = Field(description="why the stored text could not be read, else null")
    inputs: dict[str, Any]
    revision: int | None = Field(description="the number of the newest revision; null before the first")
    etag: str


class DefinitionIn(Schema):
    definition: dict[str, Any]


class Validation(Schema):
    valid: bool
    diagnostics: list[Diagnostic]


class StartIn(Schema):
    input: dict[str, Any] = Field(default_factory=dict)


class ResumeIn(Schema):
    current_definition: bool = Field(
        False,
        description="run the flow's current definition (when the steps before the failed one are the same)",
    )


class Step(Schema):
    name: str
    status: StepStatus
    attempts: int
    duration: float | None
    error: str | None


class RunSummary(Schema):
    run_id: int
    flow: str
    status: RunStatus
    error: str | None
    failed_step: str | None
    trigger: str
    triggered_by: str
    resumed_from: int | None
    parent_run: int | None = Field(
        description="the run whose flow.Flow.run step started this one (a sub-flow)"
    )
    schedule_id: int | None
    created_at: IsoTime
    started_at: IsoTime | None
    finished_at: IsoTime | None
    duration: float | None


class RunOut(RunSummary):
    """runner.outcome.run_document: the summary with the input, the context and the steps."""

    input: dict[str, Any]
    context: dict[str, Any] | None
    steps: list[Step]
    subflow_runs: list[int] = Field(description="the runs this one started as sub-flows, oldest first")


class RunPage(Schema):
    items: list[RunSummary]
    next: str | None = Field(description="the cursor of the next (older) page; null on the last page")


class LogLine(Schema):
    id: int
    time: IsoTime
    level: str
    logger: str
    message: str


class LogPage(Schema):
    items: list[LogLine]
    next: int | None = Field(
        description="the `after` of the next request: the last line's id while more lines may follow"
    )
