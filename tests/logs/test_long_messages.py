"""A log record's message is capped, so that no single record can defeat the file's rotation."""

import json
import logging
import resource
import subprocess
import sys

import pytest

from flows.models import SysLog
from runner.log import attach_database_handler, flush_logs, setup_logging
from runner.log.formatting import LineFormatter
from runner.log.pipeline import SharedRotatingFileHandler
from runner.models import Run
from tests.factories import make_flow, step
from tests.logs.conftest import log_lines
from tests.processes import ROOT, child_env


def test_a_long_message_keeps_its_head_and_says_how_much_was_cut(log_file, settings):
    settings.WORKFLOW_LOG_MAX_MESSAGE_CHARS = 100
    setup_logging()

    logging.getLogger("workflow.test").info("msg=%s", "x" * 123_456)

    assert flush_logs()
    [line] = log_lines(log_file)
    assert line.endswith(" msg=" + "x" * 96 + "... [cut 123,360 characters]")


def test_a_message_of_exactly_the_limit_is_kept_whole(log_file, settings):
    settings.WORKFLOW_LOG_MAX_MESSAGE_CHARS = 100
    setup_logging()

    logging.getLogger("workflow.test").info("x" * 100)

    assert flush_logs()
    assert log_lines(log_file)[0].endswith(" " + "x" * 100)


def test_a_long_traceback_is_cut_too(log_file, settings):
    settings.WORKFLOW_LOG_MAX_MESSAGE_CHARS = 1000
    setup_logging()

    try:
        raise ValueError("y" * 50_000)
    except ValueError:
        logging.getLogger("workflow.test").exception("step failed")

    assert flush_logs()
    text = log_file.read_text()
    assert "Traceback (most recent call last):" in text
    assert text.endswith(" characters]\n")
    assert len(text) < 2200


@pytest.mark.django_db(transaction=True)
def test_wf_syslog_gets_the_same_cut_message(log_file, settings):
    settings.WORKFLOW_LOG_MAX_MESSAGE_CHARS = 100
    setup_logging()
    attach_database_handler()

    logging.getLogger("workflow.test").info("x" * 1000)

    assert flush_logs()
    assert SysLog.objects.get().message == "x" * 100 + "... [cut 900 characters]"


def record(n: int) -> logging.LogRecord:
    message = f"record {n} " + "z" * 50
    return logging.LogRecord("workflow.test", logging.INFO, __file__, 1, message, None, None)


def test_a_batch_of_records_rotates_between_them_rather_than_passing_the_size_limit(tmp_path):
    path = tmp_path / "workflow.log"
    handler = SharedRotatingFileHandler(path, maxBytes=300, backupCount=5)
    handler.setFormatter(LineFormatter())

    handler.emit_batch([record(n) for n in range(10)])  # About 850 bytes in one write.

    handler.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) > 2
    assert all(len(file.read_bytes()) <= 300 for file in files)
    assert log_lines(path)[-1].endswith("record 9 " + "z" * 50)


def limit_memory() -> None:
    # If the bounds regressed the flow below would take gigabytes: the child fails instead.
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))


@pytest.mark.django_db(transaction=True)
def test_the_seed_procedure_fed_a_fourfold_flow_fails_its_step_and_logs_short_lines(tmp_path):
    # Each step logs and returns a list of four copies of the previous result.
    steps = [step("s1", msg="hello")]
    steps += [step(f"s{k}", msg=[f"@s{k - 1}"] * 4) for k in range(2, 41)]
    make_flow("fourfold", *steps)
    env = child_env(tmp_path, WORKFLOW_MAX_RESULT_NODES="10000", WORKFLOW_LOG_MAX_MESSAGE_CHARS="1000")

    result = subprocess.run(
        [sys.executable, "manage.py", "runflow", "fourfold", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
    )

    assert result.returncode == 1, result.stderr[-2000:]
    outcome = json.loads(result.stdout)
    # 2, 10, 42, 170, 682, 2730, 10922 values: the seventh step passes 10,000.
    assert outcome["failed_step"] == "s7"
    assert "more than 10,000 values" in outcome["error"]
    assert Run.objects.get(pk=outcome["run_id"]).status == "failed"
    lines = log_lines(tmp_path / "workflow.log")
    assert max(len(line) for line in lines) < 1200
    assert any(line.endswith(" characters]") and " prt msg=" in line for line in lines)
