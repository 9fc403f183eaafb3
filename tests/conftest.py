import io
import subprocess
import uuid
from contextlib import redirect_stderr, redirect_stdout

import pytest

# Its assertions (what workers must leave behind) explain themselves as a test's would.
pytest.register_assert_rewrite("tests.processes")

from django.core.management import call_command  # noqa: E402

from tests.processes import PACKAGES, Processes, Workers, run_manage  # noqa: E402

# Fixtures shared by several packages' tests (the local webhook receiver of the alerts tests).
pytest_plugins = ["tests.alerts.receiver"]


def pytest_configure(config):
    # The admin tests log in with passwords: hash them fast here (the real hashers stay listed,
    # so a password set by a process a test starts still checks).
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


# Modules that spend minutes waiting on real processes and clocks go first, so that
# pytest-xdist starts them at once and the rest of the suite runs beside them instead of one
# of them starting last. scripts/run-tests passes --no-loadscope-reorder, so --dist loadfile
# hands out modules in this order: these, then the others by their number of tests (what
# xdist's own reordering does).
LONG_FIRST = ("tests/schedules/test_scheduler_process.py",)


def pytest_collection_modifyitems(config, items):
    sizes: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        sizes[module] = sizes.get(module, 0) + 1

    def order(item):
        module = item.nodeid.split("::")[0]
        return module not in LONG_FIRST, -sizes[module], module

    items.sort(key=order)  # stable: a module's tests keep their order


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # The wf_ tables are unmanaged, so the test database gets them from schema/, as a
    # real installation would, through the explicit command.
    with django_db_blocker.unblock():
        call_command("create_wf_tables", verbosity=0)


@pytest.fixture(autouse=True)
def _empty_wf_tables_after_transactional_tests(request):
    # Django's flush between transactional tests skips unmanaged tables; empty them here
    # so no test sees another's rows.
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    if transactional or {"transactional_db", "live_server"} & set(request.fixturenames):
        from django.db import connection

        with connection.cursor() as cursor:
            for table in ("wf_flow", "wf_syslog"):
                if table in connection.introspection.table_names():
                    cursor.execute(f"DELETE FROM {table}")


@pytest.fixture(autouse=True)
def _procedure_packages(settings):
    # The same packages as the processes that tests start (tests.processes.PACKAGES).
    settings.WORKFLOW_PROCEDURE_PACKAGES = PACKAGES.split(",")


@pytest.fixture
def runflow(tmp_path):
    """Run `manage.py runflow ...` in a child process against the test database."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return run_manage(tmp_path, "runflow", *args, **env)

    return run


@pytest.fixture
def runflow_here(settings, tmp_path):
    """`runflow` in this process, as a CompletedProcess: most cases need no process of their own."""
    from runner.log import flush_logs, shutdown_logging

    settings.WORKFLOW_LOG_FILE = str(tmp_path / "workflow.log")

    def run(*args: str) -> subprocess.CompletedProcess:
        from runner.management.commands.runflow import Command

        stdout, stderr = io.StringIO(), io.StringIO()
        # The command line's own path (argument parsing and exit codes included), minus the process.
        with redirect_stdout(stdout), redirect_stderr(stderr), pytest.raises(SystemExit) as exited:
            Command(stdout=stdout, stderr=stderr).run_from_argv(["manage.py", "runflow", *args])
            raise SystemExit(0)  # runflow returns normally on success
        flush_logs()  # the run's lines are in wf_syslog, as after a process exits
        return subprocess.CompletedProcess(args, exited.value.code, stdout.getvalue(), stderr.getvalue())

    yield run
    # The Log object (console, file and wf_syslog writer) is one per process.
    shutdown_logging()


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def processes(tmp_path):
    pool = Processes(tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def celery_queue(settings):
    """This test's own queue on the Redis broker: no other test's worker can take its tasks."""
    import redis
    from django.conf import settings as django_settings

    from workflow_site.celery import app

    broker = django_settings.CELERY_BROKER_URL
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=2).ping()
    except redis.RedisError as err:
        pytest.fail(f"Redis broker at {broker} is not reachable: {err}")
    queue_name = f"workflow-test-{uuid.uuid4().hex[:8]}"
    settings.WORKFLOW_QUEUE = "celery"
    app.conf.task_default_queue = queue_name
    yield {"WORKFLOW_QUEUE": "celery", "CELERY_TASK_DEFAULT_QUEUE": queue_name, "CELERY_BROKER_URL": broker}
    app.conf.task_default_queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
    redis.Redis.from_url(broker).delete(queue_name)
