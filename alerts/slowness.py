"""The `slow` event: a run (or a step) taking more than three times its usual duration.

There is no threshold to maintain: "usual" is the median duration of the flow's last 30
successful runs, once it has at least 5 (fewer say too little of what is usual); for a step,
the median of its successful executions in those same runs, once there are 5.
"""

from dataclasses import dataclass
from datetime import datetime
from statistics import median

from runner.models import Run, RunStep

SLOW_FACTOR = 3.0
RECENT_SUCCESSES = 30
MIN_SUCCESSES = 5
# A flow whose runs take no measurable time: its usual duration counts as this much, so
# "times its usual" stays a number.
MIN_USUAL_SECONDS = 0.001


@dataclass(frozen=True, slots=True)
class Slowness:
    factor: float  # elapsed time / usual duration
    usual: float  # seconds

    def describe(self) -> str:
        """What a message and the run page say: "running at 4.1x its usual 2 min 10 s"."""
        return f"running at {self.factor:.1f}x its usual {human_duration(self.usual)}"


def usual_duration(flow_id: int | None) -> float | None:
    """The median duration in seconds of the flow's last 30 successful runs; None while it
    has fewer than 5. One query, along the (flow_id, -id) index."""
    if flow_id is None:
        return None
    recent = (
        Run.objects.filter(flow_id=flow_id, status=Run.Status.SUCCEEDED)
        .order_by("-id")
        .values_list("started_at", "finished_at")[:RECENT_SUCCESSES]
    )
    durations = [
        (end - start).total_seconds() for start, end in recent if start is not None and end is not None
    ]
    return median(durations) if len(durations) >= MIN_SUCCESSES else None


def usual_step_duration(flow_id: int | None, step_name: str) -> float | None:
    """The median duration in seconds of the step's successful executions in the flow's last
    30 successful runs; None while there are fewer than 5. Two indexed queries: the runs
    along (flow_id, -id), then their steps by run_id (the unique (run, index) index)."""
    if flow_id is None:
        return None
    recent = (
        Run.objects.filter(flow_id=flow_id, status=Run.Status.SUCCEEDED)
        .order_by("-id")
        .values_list("pk", flat=True)[:RECENT_SUCCESSES]
    )
    # A list, not a subquery: MariaDB refuses LIMIT inside IN (...).
    durations = list(
        RunStep.objects.filter(
            run_id__in=list(recent), name=step_name, status=RunStep.Status.SUCCEEDED, duration__isnull=False
        ).values_list("duration", flat=True)
    )
    return median(durations) if len(durations) >= MIN_SUCCESSES else None


def slowness(started_at: datetime | None, usual: float | None, now: datetime) -> Slowness | None:
    """How slow a run started then is, when it has been going for more than three times the
    usual duration; None when it is not slow (or nothing is usual yet)."""
    if started_at is None or usual is None:
        return None
    factor = (now - started_at).total_seconds() / max(usual, MIN_USUAL_SECONDS)
    return Slowness(factor, usual) if factor > SLOW_FACTOR else None


class UsualDurations:
    """usual_duration() per flow for a process that checks often (the sender's loop): each
    flow's read again only after `refresh` seconds, since it moves with finished runs only."""

    def __init__(self, refresh: float = 60.0) -> None:
        self.refresh = refresh
        self.known: dict[int, tuple[float | None, datetime]] = {}

    def of(self, flow_id: int, now: datetime) -> float | None:
        cached = self.known.get(flow_id)
        if cached is not None and (now - cached[1]).total_seconds() < self.refresh:
            return cached[0]
        usual = usual_duration(flow_id)
        self.known[flow_id] = (usual, now)
        return usual


class UsualStepDurations:
    """usual_step_duration() per (flow, step), read again only after `refresh` seconds, as
    UsualDurations does for flows."""

    def __init__(self, refresh: float = 60.0) -> None:
        self.refresh = refresh
        self.known: dict[tuple[int, str], tuple[float | None, datetime]] = {}

    def of(self, flow_id: int, step_name: str, now: datetime) -> float | None:
        cached = self.known.get((flow_id, step_name))
        if cached is not None and (now - cached[1]).total_seconds() < self.refresh:
            return cached[0]
        usual = usual_step_duration(flow_id, step_name)
        self.known[(flow_id, step_name)] = (usual, now)
        return usual


def human_duration(seconds: float) -> str:
    """2 min 10 s; 12.5 s; 340 ms; 3 h 5 min."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"
