import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from flows.models import Flow, SysLog
from runner.log import attach_database_handler, flush_logs, setup_logging
from runner.log.db_handler import DatabaseHandler
from runner.log.pipeline import LogPipeline
from tests.logs.conftest import LogDatabase, database_handler, log_lines

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent.parent


def messages() -> list[str]:
    return list(SysLog.objects.order_by("id").values_list("message", flat=True))


def test_records_reach_wf_syslog(log_file):
    setup_logging()
    attach_database_handler()
    before = datetime.now(UTC)

    logging.getLogger("workflow.test").warning("msg=%s", "hello")

    assert flush_logs()
    row = SysLog.objects.get()
    assert (row.level, row.logger_name, row.message) == ("WARNING", "workflow.test", "msg=hello")
    # DATETIME(3) on MySQL keeps milliseconds.
    assert (
        before.replace(microsecond=before.microsecond // 1000 * 1000) <= row.created_at <= datetime.now(UTC)
    )


def test_a_traceback_is_stored_with_its_message(log_file):
    setup_logging()
    attach_database_handler()

    try:
        {}["missing"]
    except KeyError:
        logging.getLogger("workflow.test").exception("step %s failed", "step2")

    assert flush_logs()
    row = SysLog.objects.get()
    assert row.level == "ERROR"
    assert row.message.startswith("step step2 failed\nTraceback (most recent call last):\n")
    assert row.message.endswith("KeyError: 'missing'")


def test_rows_logged_inside_a_transaction_survive_its_rollback(log_file):
    setup_logging()
    attach_database_handler()

    with pytest.raises(RuntimeError), transaction.atomic():
        Flow.objects.create(flow_name="doomed", flow_json="{}")
        logging.getLogger("workflow.test").info("inside the transaction")
        if connection.vendor != "sqlite":
            # Written and committed while the caller's transaction is still open. (SQLite
            # has one writer at a time: there the row waits for the rollback.)
            assert flush_logs()
        raise RuntimeError("the step failed")

    assert flush_logs()
    assert not Flow.objects.filter(flow_name="doomed").exists()
    assert messages() == ["inside the transaction"]


def test_records_of_the_database_layer_are_not_written_back(log_file):
    setup_logging()
    attach_database_handler()
    # Even when the database layer's logger is routed to the Log object.
    pipeline = logging.getLogger("workflow").handlers[0]
    db_logger = logging.getLogger("django.db.backends")
    db_logger.addHandler(pipeline)
    level, db_logger.level = db_logger.level, logging.DEBUG
    try:
        with CaptureQueriesContext(connection):
            Flow.objects.filter(flow_name="nothing").exists()
        logging.getLogger("workflow.test").info("after the query")
        assert flush_logs()
    finally:
        db_logger.removeHandler(pipeline)
        db_logger.level = level

    assert "wf_flow" in log_file.read_text()
    assert list(SysLog.objects.values_list("logger_name", flat=True)) == ["workflow.test"]


def test_four_byte_characters_arrive_intact(log_file):
    setup_logging()
    attach_database_handler()
    text = "emoji 😀 clef 𝄞 accents café ✓ 中文"

    logging.getLogger("workflow.test").info(text)

    assert flush_logs()
    assert messages() == [text]
    assert log_lines(log_file)[-1].endswith(text)


@pytest.mark.django_db(transaction=True, databases=["default", LogDatabase.alias])
def test_a_database_outage_leaves_console_and_file_complete_and_ends_with_the_rows_written(
    log_file, log_database, capsys
):
    log_database.go_down()
    setup_logging()
    attach_database_handler()
    logger = logging.getLogger("workflow.test")

    for n in range(20):
        logger.info("record %d", n)
    assert flush_logs() is False  # At once: the writer knows the database is down.
    for n in range(20, 30):
        logger.info("record %d", n)
    assert flush_logs() is False

    expected = [f"record {n}" for n in range(30)]
    err = capsys.readouterr().err
    assert [line.split(" ", 5)[-1] for line in err.splitlines() if " INFO " in line] == expected
    assert [line.split(" ", 5)[-1] for line in log_lines(log_file)] == expected
    [degraded] = [line for line in err.splitlines() if line.startswith("workflow logging:")]
    assert "cannot write to wf_syslog (OperationalError" in degraded
    assert not SysLog.objects.exists()

    log_database.come_back()
    assert database_handler().wait_writing(10)
    assert flush_logs()

    assert messages()[:30] == expected
    assert messages()[30].startswith("wf_syslog was unreachable for ")
    assert (
        capsys.readouterr().err
        == "workflow logging: writing to wf_syslog again; the records kept meanwhile are written\n"
    )


@pytest.mark.django_db(transaction=True, databases=["default", LogDatabase.alias])
def test_a_full_buffer_drops_new_records_and_writes_their_count(log_database):
    log_database.go_down()  # Nothing is written, so the buffer fills.
    database = DatabaseHandler(using=log_database.alias, capacity=3)
    pipeline = LogPipeline([], queue_size=1000)
    pipeline.attach_database(database)
    logger = logging.Logger("drops")
    logger.addHandler(pipeline)
    try:
        for n in range(10):
            logger.info("record %d", n)
        assert not pipeline.drain(10)

        log_database.come_back()
        assert database.wait_writing(10)
        assert pipeline.drain(10)
    finally:
        pipeline.shutdown(10)

    rows = list(SysLog.objects.order_by("id").values_list("level", "message"))
    assert rows[:4] == [
        ("INFO", "record 0"),
        ("INFO", "record 1"),
        ("INFO", "record 2"),
        ("WARNING", "7 log records dropped (queue full)"),
    ]
    assert [message for _, message in rows[4:]] == [rows[4][1]]  # The outage notice, only.


def test_a_row_the_table_refuses_does_not_hold_up_the_others(log_file, monkeypatch, capsys):
    execute = DatabaseHandler._execute

    def refuse_long_messages(handler, rows, **kwargs):
        # A stand-in for a legacy column too short for one of the messages.
        if any(len(message) > 100 for _, _, _, message in rows):
            raise ValueError("Data too long for column 'message'")
        execute(handler, rows, **kwargs)

    monkeypatch.setattr(DatabaseHandler, "_execute", refuse_long_messages)
    setup_logging()
    attach_database_handler()

    logging.getLogger("workflow.test").info("short")
    logging.getLogger("workflow.test").info("x" * 200)
    logging.getLogger("workflow.test").info("short again")

    assert flush_logs()
    notice = (
        "1 log records could not be written to wf_syslog (ValueError: Data too long for column 'message')"
    )
    # The notice follows the batch that held the refused row: "short again" may have come in
    # the same batch or in the next one.
    assert [message for message in messages() if message != notice] == ["short", "short again"]
    assert messages().count(notice) == 1
    assert f"workflow logging: {notice}\n" in capsys.readouterr().err


def test_records_still_queued_at_exit_are_written(log_file):
    script = (
        "import logging, django\n"
        "django.setup()\n"
        "from runner.log import attach_database_handler, setup_logging\n"
        "setup_logging()\n"
        "attach_database_handler()\n"
        "logging.getLogger('workflow.test').info('logged just before exit')\n"
    )
    environ = {**os.environ, "DATABASE_URL": database_url(), "WORKFLOW_LOG_FILE": str(log_file)}

    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environ, check=True, timeout=60)

    assert messages() == ["logged just before exit"]
    assert log_lines(log_file)[-1].endswith("logged just before exit")


def database_url() -> str:
    """The test database, for another process."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = quote(config["USER"], safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    return f"mysql://{user}{password}@{config['HOST']}:{config['PORT']}/{config['NAME']}"


@pytest.mark.django_db(transaction=True, databases=["default", LogDatabase.alias])
def test_a_flow_succeeds_while_wf_syslog_is_unreachable(log_file, log_database, capsys):
    from runner import services
    from runner.models import Run
    from tests.factories import EXAMPLE, make_flow

    log_database.go_down()
    run = services.create_run(make_flow("example", *EXAMPLE), input={}, trigger="cli", triggered_by="t")

    run = services.execute_run(run.pk)

    assert run.status == Run.Status.SUCCEEDED
    assert run.context["step2"] == {"msg": "hello"}
    assert "msg=hello" in capsys.readouterr().err
    assert sum(line.endswith("msg=hello") for line in log_lines(log_file)) == 2
