"""/metrics: a prometheus-client collector that reads the database at scrape time.

Every value comes from the tables, not from counters in this process, so it is the same
whichever web process answers and counts the runs of every worker and of plain cron. Each
query is one GROUP BY or range over an index:

- runs by flow and status, last success by flow: the run_flow_status_finished index
  (flow_name, status, finished_at), read without touching the table;
- the duration histogram: runs finished in the last 24 hours (run_finished index), so its
  cost follows a day's runs, not the history; it is a gauge histogram (a window, not a
  counter): `histogram_quantile(0.95, workflow_run_duration_seconds_bucket)` is the p95
  of the last day;
- queued runs: the run_status_recent index; processes: worker_kind_seen; notifications: the
  outbox's (status, next_attempt_at) index.
"""

from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from alerts.models import Notification
from runner import liveness
from runner.models import Run, WorkerProcess

DURATION_WINDOW = timedelta(hours=24)
BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
PREFIX = "workflow"


class WorkflowCollector(Collector):
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self):
        now = self.now or timezone.now()
        yield from runs_by_flow_and_status()
        yield last_success_by_flow()
        yield duration_histogram(now)
        yield from queued_runs(now)
        yield from processes(now)
        yield from notifications()


def registry(now: datetime | None = None) -> CollectorRegistry:
    """A registry of its own (not the global one): only the database's values, per scrape."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(WorkflowCollector(now))
    return scrape


def runs_by_flow_and_status():
    finished = CounterMetricFamily(
        f"{PREFIX}_runs",
        "Finished runs in the run table, by flow and final status.",
        labels=["flow", "status"],
    )
    active = GaugeMetricFamily(
        f"{PREFIX}_runs_active", "Queued and running runs, by flow and status.", labels=["flow", "status"]
    )
    rows = Run.objects.order_by().values_list("flow_name", "status").annotate(n=Count("*"))
    for flow, status, count in rows:
        (finished if status in Run.FINISHED else active).add_metric([flow, status], count)
    return finished, active


def last_success_by_flow() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        f"{PREFIX}_last_success_timestamp_seconds",
        "When the newest successful run of each flow finished (Unix time).",
        labels=["flow"],
    )
    rows = (
        Run.objects.filter(status=Run.Status.SUCCEEDED, finished_at__isnull=False)
        .order_by()
        .values_list("flow_name")
        .annotate(last=Max("finished_at"))
    )
    for flow, last in rows:
        family.add_metric([flow], last.timestamp())
    return family


def duration_histogram(now: datetime) -> GaugeHistogramMetricFamily:
    family = GaugeHistogramMetricFamily(
        f"{PREFIX}_run_duration_seconds",
        "Durations of the runs finished in the last 24 hours, by flow.",
        labels=["flow"],
    )
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    # One conditional count per bucket: cumulative, as Prometheus buckets are.
    counts = {f"le_{i}": Count("pk", filter=Q(took__lte=timedelta(seconds=b))) for i, b in enumerate(BUCKETS)}
    rows = (
        Run.objects.filter(finished_at__gte=now - DURATION_WINDOW, started_at__isnull=False)
        .order_by()
        .annotate(took=took)
        .values("flow_name")
        .annotate(total=Count("pk"), seconds=Sum("took"), **counts)
    )
    for row in rows:
        buckets = [(str(float(b)), row[f"le_{i}"]) for i, b in enumerate(BUCKETS)]
        buckets.append(("+Inf", row["total"]))
        family.add_metric([row["flow_name"]], buckets, _seconds(row["seconds"]))
    return family


def _seconds(total) -> float:
    # Sum over a duration is a timedelta on most backends, microseconds on some.
    if total is None:
        return 0.0
    return total.total_seconds() if isinstance(total, timedelta) else float(total) / 1_000_000


def queued_runs(now: datetime):
    queued = Run.objects.filter(status=Run.Status.QUEUED).order_by()
    found = queued.aggregate(n=Count("pk"), oldest=Min("id"))
    oldest = Run.objects.filter(pk=found["oldest"]).values_list("created_at", flat=True).first()
    yield GaugeMetricFamily(f"{PREFIX}_queued_runs", "Runs waiting for a worker.", value=found["n"])
    yield GaugeMetricFamily(
        f"{PREFIX}_oldest_queued_run_age_seconds",
        "How long the oldest queued run has waited (0 when none waits).",
        value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
    )


def processes(now: datetime):
    rows = list(liveness.processes())
    alive = GaugeMetricFamily(
        f"{PREFIX}_processes_alive",
        "Worker and scheduler processes seen in the last 30 s, by kind.",
        labels=["kind"],
    )
    for kind in WorkerProcess.Kind.values:
        alive.add_metric(
            [kind], sum(1 for row in rows if row.kind == kind and not liveness.is_stale(row, now))
        )
    yield alive
    schedulers = [row.last_seen for row in rows if row.kind == WorkerProcess.Kind.SCHEDULER]
    tick = GaugeMetricFamily(
        f"{PREFIX}_scheduler_last_tick_age_seconds",
        "Seconds since a scheduler last finished a pass (absent when none has run for an hour).",
    )
    if schedulers:
        tick.add_metric([], max((now - max(schedulers)).total_seconds(), 0.0))
    yield tick
    yield CounterMetricFamily(
        f"{PREFIX}_log_records_dropped",
        "Log records dropped by the processes listed on /workers/ (a full queue or buffer).",
        value=sum(row.log_records_dropped for row in rows),
    )


def notifications():
    counts = dict(Notification.objects.order_by().values_list("status").annotate(n=Count("pk")))
    done = CounterMetricFamily(
        f"{PREFIX}_notifications",
        "Notifications delivered (sent) or given up on (failed).",
        labels=["status"],
    )
    for status in (Notification.Status.SENT, Notification.Status.FAILED):
        done.add_metric([status], counts.get(status, 0))
    yield done
    yield GaugeMetricFamily(
        f"{PREFIX}_notifications_pending",
        "Notifications waiting to be delivered.",
        value=counts.get(Notification.Status.PENDING, 0),
    )
