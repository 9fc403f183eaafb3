"""`manage.py prune` and runner.retention: what goes, what stays, in bounded statements."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flows.models import SysLog
from runner import retention
from runner.models import Run, RunStep
from tests.factories import log, make_flow, make_run, step

pytestmark = pytest.mark.django_db

OLD = timezone.now() - timedelta(days=100)
CUTOFF = timezone.now() - timedelta(days=90)


def old_run(flow: str = "nightly", status: str = "succeeded", steps: int = 1, **fields) -> Run:
    run = make_run(flow, status, created_at=OLD, started_at=OLD, finished_at=OLD, **fields)
    Run.objects.filter(pk=run.pk).update(created_at=OLD)  # auto_now_add ignores the value given
    for index in range(steps):
        RunStep.objects.create(run=run, index=index, name=f"s{index}", status="succeeded", started_at=OLD)
    return run


def run_lines(run: Run, count: int = 2, when=OLD) -> list[SysLog]:
    lines = [log(f"line {n}", logger=f"workflow.run.{run.pk}.s0", created_at=when) for n in range(count)]
    Run.objects.filter(pk=run.pk).update(log_first_id=lines[0].pk, log_last_id=lines[-1].pk)
    return lines


def prune(*args) -> str:
    out = StringIO()
    call_command("prune", *args, stdout=out)
    return out.getvalue()


def exists(run: Run) -> bool:
    return Run.objects.filter(pk=run.pk).exists()


@pytest.fixture(autouse=True)
def flow():
    return make_flow("nightly", step("a"))


def test_old_runs_and_their_steps_are_deleted():
    doomed = [old_run(steps=3) for _ in range(3)]
    old_run()  # the newest success is kept as evidence

    prune("--runs-older-than", "90d")

    assert not any(exists(run) for run in doomed)
    assert not RunStep.objects.filter(run_id__in=[run.pk for run in doomed]).exists()


def test_each_flows_last_succeeded_and_last_failed_runs_are_kept_whatever_their_age():
    old_run(status="succeeded"), old_run(status="failed")
    last_success, last_failure = old_run(status="succeeded"), old_run(status="failed")

    prune("--runs-older-than", "90d")

    assert set(Run.objects.values_list("pk", flat=True)) == {last_success.pk, last_failure.pk}


def test_every_run_of_a_kept_resume_chain_is_kept():
    original = old_run(status="failed")
    middle = old_run(status="failed", resumed_from_id=original.pk)
    last = old_run(status="succeeded", resumed_from_id=middle.pk)
    unrelated = old_run(status="cancelled")

    prune("--runs-older-than", "90d")

    assert all(exists(run) for run in (original, middle, last))
    assert not exists(unrelated)


def test_recent_and_active_runs_are_kept():
    recent = make_run("nightly", "succeeded")
    running = make_run("nightly", "running")
    Run.objects.filter(pk=running.pk).update(created_at=OLD)
    for _ in range(2):
        old_run()

    prune("--runs-older-than", "90d")

    assert exists(recent) and exists(running)


def test_old_log_lines_go_but_those_of_kept_runs_stay():
    kept = old_run()
    kept_lines = run_lines(kept)
    other = [log("old", created_at=OLD) for _ in range(3)]
    new = log("new")

    prune("--logs-older-than", "30d")

    remaining = set(SysLog.objects.values_list("pk", flat=True))
    assert remaining == {line.pk for line in kept_lines} | {new.pk}
    assert not remaining & {line.pk for line in other}


def test_a_dry_run_deletes_nothing_and_says_what_would_go_per_table_and_flow():
    make_flow("weekly", step("a"))
    for name in ("nightly", "nightly", "nightly", "weekly", "weekly"):
        run_lines(old_run(name, steps=2))
    before = (Run.objects.count(), RunStep.objects.count(), SysLog.objects.count())

    out = prune("--runs-older-than", "90d", "--logs-older-than", "30d", "--dry-run")

    assert (Run.objects.count(), RunStep.objects.count(), SysLog.objects.count()) == before
    assert f"{Run._meta.db_table}: would delete 3 rows" in out  # each flow keeps its last success
    assert f"{RunStep._meta.db_table}: would delete 6 rows" in out
    assert "wf_syslog: would delete 6 rows" in out
    assert "nightly: would delete 2 runs, 4 steps, 4 log lines" in out
    assert "weekly: would delete 1 runs, 2 steps, 2 log lines" in out


def test_statements_touch_at_most_the_batch_size():
    for _ in range(7):
        old_run(steps=3)
    pruner = retention.Pruner(batch=2)

    pruner.runs(CUTOFF)

    assert pruner.result.runs == 6
    assert pruner.result.steps == 18
    # 6 runs in 2-row batches, 18 steps in 2-row batches: many short statements, none large.
    assert pruner.result.statements == 3 + 9


def test_a_prune_killed_midway_finishes_when_run_again(monkeypatch):
    doomed = [old_run(steps=2) for _ in range(6)]
    old_run()
    calls = {"n": 0}
    execute = retention.Pruner._execute

    def dies_after_three_statements(self, sql, params):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return execute(self, sql, params)

    monkeypatch.setattr(retention.Pruner, "_execute", dies_after_three_statements)
    with pytest.raises(KeyboardInterrupt):
        retention.Pruner(batch=2).runs(CUTOFF)
    assert any(exists(run) for run in doomed)

    monkeypatch.setattr(retention.Pruner, "_execute", execute)
    retention.Pruner(batch=2).runs(CUTOFF)

    assert not any(exists(run) for run in doomed)
    assert not RunStep.objects.filter(run_id__in=[run.pk for run in doomed]).exists()


def test_without_ages_or_settings_prune_refuses_with_exit_2(settings):
    settings.WORKFLOW_KEEP_RUNS_DAYS = settings.WORKFLOW_KEEP_LOGS_DAYS = None
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("prune", stderr=err)
    assert exit_.value.code == 2
    assert "nothing to prune" in err.getvalue()


def test_the_settings_give_the_ages_when_no_option_does(settings):
    settings.WORKFLOW_KEEP_RUNS_DAYS = 90
    doomed = old_run()
    old_run()

    prune()

    assert not exists(doomed)


@pytest.mark.parametrize("age", ["90", "90d", "12h", "2w"])
def test_ages_are_days_hours_or_weeks(age):
    assert retention_age(age) > timedelta(0)


@pytest.mark.parametrize("age", ["", "0d", "-5d", "90 days", "1y", "9999999d"])
def test_a_bad_age_is_refused(age):
    with pytest.raises(ValueError, match="not an age"):
        retention_age(age)


def retention_age(text):
    from runner.management.commands.prune import parse_age

    return parse_age(text)


def test_the_daily_prune_applies_the_settings(settings):
    settings.WORKFLOW_KEEP_RUNS_DAYS, settings.WORKFLOW_KEEP_LOGS_DAYS = 90, 30
    doomed, line = old_run(), log("old", created_at=OLD)
    old_run()

    result = retention.DailyPrune().run_once()

    assert (result.runs, result.logs) == (1, 1)
    assert not exists(doomed) and not SysLog.objects.filter(pk=line.pk).exists()


def test_the_daily_prune_does_nothing_without_settings(settings):
    settings.WORKFLOW_KEEP_RUNS_DAYS = settings.WORKFLOW_KEEP_LOGS_DAYS = None
    old_run(), old_run()

    assert retention.DailyPrune().run_once() is None
    assert Run.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_on_mysql_each_delete_runs_at_read_committed_so_it_locks_no_gap_before_new_lines():
    if connection.vendor != "mysql":
        pytest.skip("MySQL/MariaDB only: SQLite has no gap locks")
    for _ in range(3):
        log("old", created_at=OLD)
    log("new")

    with CaptureQueriesContext(connection) as captured:
        retention.Pruner(batch=2).logs(CUTOFF)

    sql = [query["sql"] for query in captured.captured_queries]
    deletes = [index for index, text in enumerate(sql) if text.startswith("DELETE")]
    assert deletes
    assert all(sql[index - 1] == "SET TRANSACTION ISOLATION LEVEL READ COMMITTED" for index in deletes)
