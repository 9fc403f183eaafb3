"""Resuming a failed, cancelled or lost run from its failed step: a new run (trigger "resume")
whose steps before that one are not executed; their stored results are reused as they were.

`services.create_resume_run` is the one way in (runflow --resume, the run page's button),
with the checks made here; `plan_for` is what execution asks: where a run starts and what it
reuses. This module imports no lifecycle, so execution may import it.
"""

import json
from dataclasses import dataclass, field

from flows.models import Flow
from runner.jsonsafe import MAX_DEPTH
from runner.models import Run, RunStep
from runner.validation import flow_analysis

# What runner.jsonsafe leaves where a value was not stored in full.
TRUNCATED_KEY = "__truncated__"
NESTED_MARKER = f"<nested deeper than {MAX_DEPTH} levels: not stored>"
# Steps whose row says they did not end well: a resume starts at the first of them.
UNFINISHED = (
    RunStep.Status.FAILED,
    RunStep.Status.TIMED_OUT,
    RunStep.Status.CANCELLED,
    RunStep.Status.RUNNING,
)
STEP_FIELDS = ("name", "mod", "method", "params")


class CannotResume(Exception):
    """The run cannot be resumed; the message says why. `differences` lists the steps before
    the failed one that the current definition changed, when that was the reason."""

    def __init__(self, message: str, differences: list[str] | None = None) -> None:
        super().__init__(message)
        self.differences = differences or []


@dataclass(frozen=True)
class ResumePlan:
    start_at: int = 0  # index of the first step to execute
    reused: dict = field(default_factory=dict)  # step name -> stored result of the steps before it
    reused_from_run_id: int | None = None


@dataclass(frozen=True)
class ResumePoint:
    """Where a finished run would be resumed: the index and name of its failed step."""

    index: int
    step: str


def plan_for(run: Run) -> ResumePlan:
    """Where execution of `run` starts: step 0 for a new run; for a resume, the failed step of
    the run it resumes, with the stored results of the steps before it."""
    if run.resumed_from_id is None:
        return ResumePlan()
    original = find_run(run.resumed_from_id)
    point = resume_point(original)
    return ResumePlan(point.index, reused_results(original, point), original.pk)


def resumable(original: Run) -> ResumePoint:
    """Where a resume of `original` would start, after every check that the run itself can
    answer; CannotResume says why not. (services.create_resume_run creates the run.)"""
    point = resume_point(original)
    reused_results(original, point)  # refuses results that were not stored in full
    return point


def definition_for(original: Run, current: Flow, point: ResumePoint, *, current_definition: bool) -> str:
    """The definition a resume runs: the original's frozen one, or the flow's current one when
    asked and every step before the resume point is unchanged there."""
    if not current_definition:
        return original.definition
    if differences := changed_steps(original.definition, current.flow_json, point.index):
        raise CannotResume(
            f"the current definition of {current.flow_name!r} changed steps before {point.step!r}",
            differences,
        )
    return current.flow_json


def resume_point(original: Run) -> ResumePoint:
    """The step a resume of `original` starts at, or CannotResume when it has none."""
    if original.status == Run.Status.SUCCEEDED:
        raise CannotResume(f"run {original.pk} succeeded: there is nothing to resume")
    if original.status in Run.ACTIVE:
        raise CannotResume(f"run {original.pk} is still {original.status}: resume it once it has ended")
    names = _step_names(original.definition)
    index = _failed_index(original, names)
    if index is None:
        raise CannotResume(f"run {original.pk} has no failed step to resume from: re-run it instead")
    return ResumePoint(index, names[index])


def _failed_index(original: Run, names: list[str]) -> int | None:
    # The recorded failed step first; a lost run (reaped) has only its step rows; a run
    # cancelled between two steps resumes at the first step that did not run.
    if original.failed_step in names:
        return names.index(original.failed_step)
    rows = list(original.steps.order_by("index").values_list("index", "status"))
    for index, status in rows:
        if status in UNFINISHED and index < len(names):
            return index
    if original.status == Run.Status.CANCELLED and rows and len(rows) < len(names):
        return len(rows)
    return None


def reused_results(original: Run, point: ResumePoint) -> dict:
    """The stored results of the steps before the resume point, by name; CannotResume when one
    is missing, or was not stored in full and a later step refers to it."""
    context = original.context if isinstance(original.context, dict) else {}
    names = _step_names(original.definition)[: point.index]
    missing = [name for name in names if name not in context]
    if missing:
        raise CannotResume(
            f"run {original.pk} has no stored result of step {missing[0]!r}: it cannot be resumed"
        )
    needed = _referenced_later(original.definition, point.index)
    inexact = set(original.steps.filter(index__in=needed, result_exact=False).values_list("index", flat=True))
    for index in sorted(inexact):
        raise CannotResume(
            f"the result of step {names[index]!r} of run {original.pk} was not stored in full (a value"
            f" that is not JSON was kept as its repr), and a later step refers to it: re-run the flow instead"
        )
    for index, name in enumerate(names):
        if index in needed and (what := not_stored_whole(context[name])):
            raise CannotResume(
                f"the result of step {name!r} of run {original.pk} was not stored in full ({what}),"
                f" and a later step refers to it: re-run the flow instead"
            )
    return {name: context[name] for name in names}


def not_stored_whole(value, depth: int = 0) -> str | None:
    """What marks `value` (a stored result) as not the whole of what the step returned, or None."""
    if value == NESTED_MARKER:
        return "nested too deeply"
    if isinstance(value, dict):
        if value.get(TRUNCATED_KEY) is True:
            return "truncated"
        items = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    if depth > MAX_DEPTH:
        return None  # the store nests no deeper
    return next((what for item in items if (what := not_stored_whole(item, depth + 1))), None)


def _referenced_later(definition: str, start_at: int) -> set[int]:
    # Steps read results through references in their params: the steps from the resume point
    # on need exactly the earlier steps they refer to.
    steps = flow_analysis(definition).steps
    return {
        ref.step for outline in steps[start_at:] for ref in outline.references if 0 <= ref.step < start_at
    }


def changed_steps(old: str, new: str, before: int) -> list[str]:
    """How the first `before` steps of definition `new` differ from those of `old` (name, mod,
    method, params), one line per difference; empty when they are the same."""
    old_steps, new_steps = _procedures(old)[:before], _procedures(new)[:before]
    differences = []
    for number, (was, now) in enumerate(zip(old_steps, new_steps, strict=False), start=1):
        for key in STEP_FIELDS:
            if was.get(key) != now.get(key):
                change = f"{_shown(was.get(key))} → {_shown(now.get(key))}"
                differences.append(f"step {number} {was.get('name')!r}: {key} {change}")
    if len(new_steps) < len(old_steps):
        differences.append(
            f"the current definition has only {len(new_steps)} of the {before} steps before the resume point"
        )
    return differences


def resume_chain(run: Run) -> list[Run]:
    """The runs linked to `run` by resumes, oldest first: the first original, each resume of it
    and of those resumes in turn (one query per generation)."""
    first = run
    seen = {run.pk}
    while first.resumed_from_id is not None and first.resumed_from_id not in seen:
        earlier = Run.objects.listing().filter(pk=first.resumed_from_id).first()
        if earlier is None:
            break
        seen.add(earlier.pk)
        first = earlier
    chain, generation = [first], [first.pk]
    while generation:
        later = list(Run.objects.listing().filter(resumed_from_id__in=generation).order_by("id"))
        later = [r for r in later if r.pk not in {c.pk for c in chain}]
        chain.extend(later)
        generation = [r.pk for r in later]
    return sorted(chain, key=lambda r: r.pk) if len(chain) > 1 else []


def find_run(run_id: int) -> Run:
    """The run with that id, or CannotResume."""
    original = Run.objects.filter(pk=run_id).first()
    if original is None:
        raise CannotResume(f"run {run_id} not found")
    return original


def _procedures(definition: str) -> list[dict]:
    try:
        procedures = json.loads(definition).get("procedures", [])
    except (ValueError, AttributeError):
        return []
    return (
        [step if isinstance(step, dict) else {} for step in procedures]
        if isinstance(procedures, list)
        else []
    )


def _step_names(definition: str) -> list[str]:
    return [str(step.get("name", "")) for step in _procedures(definition)]


def _shown(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value is not None else "(none)"
