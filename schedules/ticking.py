"""The scheduler's pass: every due tick of every schedule gets exactly one ledger row.

Time is a parameter (`now`) so that tests move the clock; the process passes the real one.
Several schedulers may run the same pass at once: the ledger's unique (schedule, due time)
lets one of them record a tick, and its run commits in the same transaction as its row.
The schedules of a pass are handled a few at a time in one transaction (each tick in its own
savepoint): a thousand ticks due at once then cost twenty commits rather than two thousand
(benchmarks/scheduler.py measures their lag).

A tick handled within GRACE of its due time is on time and fires. Older ticks were missed
while no scheduler ran; the schedule's catch-up policy says what becomes of them:
- skip: each is recorded `missed`, nothing runs;
- once: the latest fires, the others are recorded `missed` ("covered by" that run);
- all: the latest `catch_up_limit` fire, oldest first; any older ones are `missed`.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from flows.models import Flow
from runner import services
from runner.models import Run
from schedules import cron
from schedules.models import Schedule, Tick

log = logging.getLogger("workflow.scheduler")

BATCH = 500  # schedules handled per query; a pass goes on until none is due
CHUNK = 50  # schedules handled per transaction
MAX_TICKS = 1000  # due times examined per schedule and pass (a minutely schedule after a long outage)
DETAIL_LENGTH = 500

OnCreated = Callable[[Run], None]


def grace() -> timedelta:
    return timedelta(seconds=settings.WORKFLOW_SCHEDULE_GRACE_SECONDS)


@dataclass
class PassResult:
    ticks: list[Tick] = field(default_factory=list)
    next_due: datetime | None = None  # the earliest next due time after the pass

    def count(self, outcome: str) -> int:
        return sum(1 for tick in self.ticks if tick.outcome == outcome)


def run_pass(now: datetime, on_created: OnCreated | None = None) -> PassResult:
    """Handle every tick due at `now`; `on_created(run)` hands each new run to the queue."""
    result = PassResult()
    seen: set[int] = set()
    # Ordered by id within a due time too: concurrent schedulers then take the ledger's keys
    # (held until their chunk commits) in the same order, so the later one waits for the
    # earlier instead of deadlocking with it.
    due = Schedule.objects.due(now).order_by("next_due", "pk")
    while batch := list(due.exclude(pk__in=seen)[:BATCH]):
        seen.update(schedule.pk for schedule in batch)
        flows = Flow.all_objects.in_bulk({s.flow_id for s in batch})
        _open_gates(batch, flows)
        for start in range(0, len(batch), CHUNK):
            result.ticks += _handle_chunk(batch[start : start + CHUNK], flows, now, on_created)
    result.next_due = (
        Schedule.objects.filter(next_due__isnull=False)
        .order_by("next_due")
        .values_list("next_due", flat=True)
        .first()
    )
    return result


def handle(schedule: Schedule, flow: Flow | None, now: datetime, on_created: OnCreated | None) -> list[Tick]:
    """Record (and fire) the schedule's ticks due at `now`, then move its next_due on."""
    _open_gates([schedule], {schedule.flow_id: flow} if flow else {})
    ticks, following = _record_due_ticks(schedule, flow, now, on_created)
    _move_on([schedule.pk], schedule.next_due, following)
    return ticks


def _handle_chunk(
    chunk: list[Schedule], flows: dict[int, Flow], now: datetime, on_created: OnCreated | None
) -> list[Tick]:
    """The ticks of a few schedules, and their moves to the next due time, in one transaction."""
    ticks: list[Tick] = []
    moves: dict[tuple[datetime, datetime | None], list[int]] = defaultdict(list)
    with transaction.atomic():
        for schedule in chunk:
            try:
                recorded, following = _record_due_ticks(
                    schedule, flows.get(schedule.flow_id), now, on_created
                )
            except Exception:
                if transaction.get_rollback():
                    raise  # the transaction is lost (a deadlock, the connection gone): the pass ends here
                # One broken schedule must not stop the others; it is retried next pass.
                log.exception("schedule %s could not be handled", schedule.pk)
                continue
            ticks += recorded
            moves[schedule.next_due, following].append(schedule.pk)
        # One update per (due time, next due time): schedules due together mostly share it.
        for (due, following), ids in moves.items():
            _move_on(ids, due, following)
    return ticks


def _open_gates(schedules: list[Schedule], flows: dict[int, Flow]) -> None:
    # Outside the transaction that locks them (see services.ensure_gate).
    for flow_id in {s.flow_id for s in schedules if s.overlap == Schedule.Overlap.SKIP_IF_RUNNING}:
        if flow_id in flows:
            services.ensure_gate(flow_id)


def _record_due_ticks(
    schedule: Schedule, flow: Flow | None, now: datetime, on_created: OnCreated | None
) -> tuple[list[Tick], datetime | None]:
    """The ledger rows (and runs) of the schedule's ticks due at `now`, and its next due time."""
    zone = cron.zone(schedule.timezone)
    times = [schedule.next_due]
    for due in cron.due_times(schedule.cron, zone, schedule.next_due):
        if due > now or len(times) >= MAX_TICKS:
            break
        times.append(due)
    late = [t for t in times if now - t > grace()]
    on_time = [t for t in times if now - t <= grace()]
    ticks = []
    for due, fire, detail in _decisions(schedule, late, on_time):
        tick = _record(schedule, flow, due, fire, detail, on_created)
        if tick is not None:
            ticks.append(tick)
    return ticks, cron.next_due(schedule.cron, zone, times[-1])


def _move_on(schedule_ids: list[int], due: datetime, following: datetime | None) -> None:
    # Conditional: an edit made meanwhile (new cron, pause) wins over this pass.
    Schedule.objects.filter(pk__in=schedule_ids, next_due=due).update(next_due=following)


def _decisions(schedule: Schedule, late: list[datetime], on_time: list[datetime]):
    """(due time, fire?, detail of a missed tick) in order, by the catch-up policy."""
    if schedule.catch_up == Schedule.CatchUp.ONCE and late:
        run_at = late[-1]
        for due in late[:-1]:
            yield (
                due,
                False,
                f"missed while no scheduler ran; covered by the catch-up run of {run_at.isoformat()}",
            )
        yield run_at, True, f"catch-up for {len(late)} missed tick(s)"
    elif schedule.catch_up == Schedule.CatchUp.ALL and late:
        kept = late[-schedule.catch_up_limit :]
        for due in late[: len(late) - len(kept)]:
            yield (
                due,
                False,
                f"missed while no scheduler ran; beyond the catch-up limit of {schedule.catch_up_limit}",
            )
        for due in kept:
            yield due, True, "catch-up"
    else:
        for due in late:
            yield due, False, "missed while no scheduler ran (catch-up: skip)"
    for due in on_time:
        yield due, True, ""


def _record(
    schedule: Schedule,
    flow: Flow | None,
    due: datetime,
    fire: bool,
    detail: str,
    on_created: OnCreated | None,
) -> Tick | None:
    """One ledger row, and its run when it fires, in one transaction; None when another
    scheduler recorded this tick first."""
    tick = Tick(schedule_id=schedule.pk, flow_id=schedule.flow_id, due=due, outcome=Tick.Outcome.MISSED)
    tick.detail = detail[:DETAIL_LENGTH]
    try:
        with transaction.atomic():
            if fire:
                _fire(tick, schedule, flow, detail, on_created)
            # The row last, written once with its outcome: when another scheduler recorded
            # this tick first, its unique key fails here and takes this run back with it.
            tick.save(force_insert=True)
    except IntegrityError:
        return None
    return tick


def _fire(
    tick: Tick, schedule: Schedule, flow: Flow | None, detail: str, on_created: OnCreated | None
) -> None:
    try:
        if flow is None:
            raise services.CannotStart(f"flow {schedule.flow_id} no longer exists")
        services.ensure_runnable(flow)
        run = services.create_run(
            flow,
            input=schedule.input,
            trigger="schedule",
            triggered_by=f"schedule {schedule.pk} ({schedule.cron} {schedule.timezone})"[:150],
            concurrency=schedule.overlap,
            schedule_id=schedule.pk,
            on_created=on_created,
        )
    except services.Skipped as err:
        tick.outcome, tick.run_id = Tick.Outcome.SKIPPED, err.active_run_id
        tick.detail = (
            f"skipped: run {err.active_run_id} of this flow is still active (overlap: skip_if_running)"
        )
    except services.CannotStart as err:
        tick.outcome, tick.detail = Tick.Outcome.REFUSED, str(err)[:DETAIL_LENGTH]
    else:
        tick.outcome, tick.run_id, tick.detail = Tick.Outcome.FIRED, run.pk, detail[:DETAIL_LENGTH]
