"""The outbox: notification rows written with the change that causes them.

notify_run_finished() is called inside the transaction that gives a run its final status,
so a notification exists exactly when the status does (a rolled-back transaction leaves
neither). The rows are sent later by alerts.sender, at least once.
"""

import hashlib
import json
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from alerts.models import Notification
from alerts.slowness import Slowness, UsualDurations, UsualStepDurations, slowness
from runner.engine import NotifyRule
from runner.engine.notify import notify_problems
from runner.models import Run, RunStep

# What each event says of a run, in words.
WORDS = {
    "failed": "failed",
    "lost": "was lost: its worker stopped while running it",
    "timed_out": "timed out",
    "cancelled": "was cancelled",
    "succeeded": "succeeded",
    "recovered": "recovered: it succeeded after a failed run",
    "late": "is late",
    "slow": "is slow",
    "deadline_missed": "missed its deadline",
}
MAX_ERROR = 300  # characters of the error quoted in a message


def may_notify(definition: str) -> bool:
    """False when a definition certainly has no rules (no "notify" key in its text, and no
    \\u escape that could spell one): the common case, which then costs no parsing and no
    transaction."""
    return isinstance(definition, str) and ('"notify"' in definition or "\\u" in definition)


def notify_run_finished(run: Run) -> int:
    """Write the notifications of a run that has just got its final status, for the rules of
    the definition it ran; returns how many were asked for (a second call writes nothing).

    Each channel gets one notification per run: the most specific event it subscribes to
    ("lost" rather than "failed", "recovered" rather than "succeeded").
    """
    rules = rules_of(run.definition)
    if not rules:
        return 0
    return _write(run, rules, _finish_events(run, _subscribed(rules)))


def notify_late(run: Run, now: datetime | None = None) -> int:
    """Write the "late" notifications of a run still going after its flow's max_duration_seconds."""
    rules = rules_of(run.definition)
    if not rules:
        return 0
    details = []
    if run.started_at is not None:
        details.append(f"running for {((now or timezone.now()) - run.started_at).total_seconds():.0f} s")
    if (limit := max_duration(run.definition)) is not None:
        details.append(f"more than its max_duration_seconds ({limit:g})")
    detail = ", ".join(details)
    return _write(run, rules, ["late"], detail)


def notify_slow(run: Run, factor: float, usual: float) -> int:
    """Write the "slow" notifications of a run going for `factor` times its flow's usual
    duration (`usual` seconds); once per run and channel, by the dedup key."""
    rules = rules_of(run.definition)
    if not rules:
        return 0
    return _write(run, rules, ["slow"], Slowness(factor, usual).describe())


def notify_slow_step(run: Run, step: str, factor: float, usual: float) -> int:
    """Write the "slow" notifications of a run whose running step is going for `factor` times
    its usual duration: once per run, step and channel, by the dedup key (apart from the
    run's own "slow" notification)."""
    rules = rules_of(run.definition)
    if not rules:
        return 0
    detail = f"step {step!r} {Slowness(factor, usual).describe()}"
    return _write(run, rules, ["slow"], detail, scope=_key_part(step))


def subscribes(definition: str, event: str) -> bool:
    """Whether a rule of the definition sends that event anywhere."""
    return any(event in rule.on for rule in rules_of(definition))


def rules_of(definition: str) -> tuple[NotifyRule, ...]:
    """The notify rules of a (valid) definition's text; none when it has none."""
    if '"notify"' not in definition:
        return ()  # most flows: no need to parse a large definition again
    try:
        data = json.loads(definition)
    except ValueError:
        return ()
    if not isinstance(data, dict) or "notify" not in data:
        return ()
    rules, _, _ = notify_problems(data["notify"])
    return rules


def max_duration(definition: str) -> float | None:
    """The definition's max_duration_seconds, when it has one."""
    if '"max_duration_seconds"' not in definition:
        return None
    try:
        value = json.loads(definition).get("max_duration_seconds")
    except (ValueError, AttributeError):
        return None
    return value if type(value) in (int, float) and value > 0 else None


def message(run: Run, event: str, detail: str = "") -> str:
    """One line: what happened, to which flow and run, the failed step and the error, and a
    link to the run page. Never the run's input or context: a channel must not see them."""
    parts = [f"Flow {run.flow_name!r} {WORDS[event]} (run {run.pk})"]
    if detail:
        parts.append(detail)
    if run.failed_step and event in ("failed", "lost", "timed_out"):
        parts.append(f"step {run.failed_step!r}")
    if run.error and event in ("failed", "lost", "timed_out", "cancelled"):
        error = " ".join(run.error.split())
        parts.append(error if len(error) <= MAX_ERROR else error[: MAX_ERROR - 1] + "…")
    return ": ".join(parts) + f" - {run_link(run.pk)}"


def run_link(run_id: int) -> str:
    return f"{settings.WORKFLOW_BASE_URL.rstrip('/')}/runs/{run_id}/"


def _subscribed(rules: tuple[NotifyRule, ...]) -> dict[str, set[str]]:
    channels: dict[str, set[str]] = {}
    for rule in rules:
        channels.setdefault(rule.channel, set()).update(rule.on)
    return channels


def _finish_events(run: Run, subscribed: dict[str, set[str]]) -> list[str]:
    """The events of the run's final status, most specific first."""
    wanted = set().union(*subscribed.values())
    if run.status == Run.Status.SUCCEEDED:
        recovered = "recovered" in wanted and _previous_failed(run)
        return ["recovered", "succeeded"] if recovered else ["succeeded"]
    if run.status == Run.Status.CANCELLED:
        return ["cancelled"]
    if run.error == "worker lost":
        return ["lost", "failed"]
    if "timed_out" in wanted and _timed_out(run):
        return ["timed_out", "failed"]
    return ["failed"]


def _previous_failed(run: Run) -> bool:
    # The flow's last finished run before this one, cancelled ones aside (one backward step
    # of the (flow_id, -id) index per run skipped).
    previous = (
        Run.objects.filter(
            flow_id=run.flow_id, pk__lt=run.pk, status__in=(Run.Status.SUCCEEDED, Run.Status.FAILED)
        )
        .order_by("-id")
        .values_list("status", flat=True)
        .first()
    )
    return previous == Run.Status.FAILED


def _timed_out(run: Run) -> bool:
    error = run.error.lower()
    if "timed out" in error or "timeout" in error:
        return True
    return RunStep.objects.filter(run_id=run.pk, status=RunStep.Status.TIMED_OUT).exists()


def _key_part(step: str) -> str:
    """The step's name in a dedup key, shortened (yet distinct) when long: the key holds 200
    characters and a step name up to 128."""
    if len(step) <= 64:
        return step
    return f"{step[:48]}~{hashlib.sha256(step.encode()).hexdigest()[:12]}"


def _write(
    run: Run, rules: tuple[NotifyRule, ...], events: list[str], detail: str = "", scope: str = ""
) -> int:
    """One notification per channel subscribing to one of `events`; `scope` (a step) makes
    the dedup key distinct from the run's own for that event."""
    now = timezone.now()
    rows = []
    for channel, wanted in _subscribed(rules).items():
        event = next((e for e in events if e in wanted), None)
        if event is None:
            continue
        rows.append(
            Notification(
                run_id=run.pk,
                flow_id=run.flow_id,
                event=event,
                channel=channel,
                dedup_key=f"{run.pk}:{event}:{scope}:{channel}" if scope else f"{run.pk}:{event}:{channel}",
                message=message(run, event, detail),
                next_attempt_at=now,
            )
        )
    # INSERT ... ignoring a dedup key written before (a second call, another process):
    # no IntegrityError, so the caller's transaction goes on unharmed.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


class LateRuns:
    """Finds the running runs past their definition's max_duration_seconds, and those of
    flows with "slow" rules going for more than three times their flow's usual duration (or
    whose running step is going for more than three times its usual duration), for a process
    that checks often (the scheduler): each run's definition is read once, each flow's and
    step's usual duration once a minute, and a late or slow run (or step) notified once
    (again at most once in all, by the dedup key, whatever other schedulers do)."""

    def __init__(self) -> None:
        self.limits: dict[int, float | None] = {}  # of the runs running at the last check
        self.slow_watch: dict[int, int] = {}  # run -> its flow, while a "slow" rule may fire
        self.slow_sent: set[tuple[int, str]] = set()  # (run, step; "" for the run itself) notified
        self.usual = UsualDurations()
        self.usual_steps = UsualStepDurations()

    def check(self, now: datetime) -> int:
        running = dict(Run.objects.filter(status=Run.Status.RUNNING).values_list("pk", "started_at"))
        self.limits = {pk: limit for pk, limit in self.limits.items() if pk in running}
        self.slow_watch = {pk: flow for pk, flow in self.slow_watch.items() if pk in running}
        self.slow_sent = {sent for sent in self.slow_sent if sent[0] in running}
        new = [pk for pk in running if pk not in self.limits]
        for pk, definition, flow_id in Run.objects.filter(pk__in=new).values_list(
            "pk", "definition", "flow_id"
        ):
            self.limits[pk] = max_duration(definition)
            if flow_id is not None and subscribes(definition, "slow"):
                self.slow_watch[pk] = flow_id
        return self._late(running, now) + self._slow(running, now) + self._slow_steps(now)

    def _late(self, running: dict, now: datetime) -> int:
        written = 0
        for pk, limit in self.limits.items():
            started = running[pk]
            if limit is not None and started is not None and (now - started).total_seconds() > limit:
                run = _run_to_notify(pk)
                written += notify_late(run, now) if run is not None else 0
                self.limits[pk] = None
        return written

    def _slow(self, running: dict, now: datetime) -> int:
        written = 0
        for pk, flow_id in self.slow_watch.items():
            if (pk, "") in self.slow_sent:
                continue
            if (slow := slowness(running[pk], self.usual.of(flow_id, now), now)) is not None:
                run = _run_to_notify(pk)
                written += notify_slow(run, slow.factor, slow.usual) if run is not None else 0
                self.slow_sent.add((pk, ""))
        return written

    def _slow_steps(self, now: datetime) -> int:
        """The running steps of the watched runs: one query, none when no run is watched."""
        if not self.slow_watch:
            return 0
        written = 0
        steps = RunStep.objects.filter(run_id__in=list(self.slow_watch), status=RunStep.Status.RUNNING)
        for pk, name, started in steps.values_list("run_id", "name", "started_at"):
            if (pk, name) in self.slow_sent:
                continue
            usual = self.usual_steps.of(self.slow_watch[pk], name, now)
            if (slow := slowness(started, usual, now)) is not None:
                run = _run_to_notify(pk)
                written += notify_slow_step(run, name, slow.factor, slow.usual) if run is not None else 0
                self.slow_sent.add((pk, name))
        return written


def _run_to_notify(pk: int) -> Run | None:
    return Run.objects.filter(pk=pk).defer("context", "input").first()
