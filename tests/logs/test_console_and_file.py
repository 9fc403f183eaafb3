import io
import logging
import re

from runner.log import console_threshold, flush_logs, setup_logging
from runner.log.pipeline import CLEAR_LINE, LogPipeline, SharedRotatingFileHandler
from tests.logs.conftest import Collect, log_lines

# The framework's example line, 2025-12-19 08:39:02.002 DEBUG Flow execFlow start, as a pattern.
SEED_LINE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO \w+ \w+ msg=hello$"


def test_console_lines_have_the_seed_format(log_file, capsys):
    setup_logging()

    logging.getLogger("workflow.test").info("msg=%s", "hello")

    assert flush_logs()
    err = capsys.readouterr().err
    assert re.search(SEED_LINE, err, re.MULTILINE), err
    assert " INFO test_console_and_file test_console_lines_have_the_seed_format msg=hello\n" in err


def test_file_lines_have_the_seed_format(log_file):
    setup_logging()

    logging.getLogger("workflow.test").info("msg=%s", "hello")

    assert flush_logs()
    [line] = log_lines(log_file)
    assert re.match(SEED_LINE, line), line


def test_a_traceback_follows_its_line_in_the_file(log_file):
    setup_logging()

    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logging.getLogger("workflow.test").exception("step failed")

    assert flush_logs()
    lines = log_lines(log_file)
    assert lines[0].endswith(
        " ERROR test_console_and_file test_a_traceback_follows_its_line_in_the_file step failed"
    )
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ZeroDivisionError: division by zero"


def test_only_the_workflow_hierarchy_reaches_the_file(log_file):
    setup_logging()

    logging.getLogger("django.request").warning("not ours")
    logging.getLogger("workflow.test").warning("ours")

    assert flush_logs()
    assert [line.split(" ", 5)[-1] for line in log_lines(log_file)] == ["ours"]


def test_the_level_setting_applies(log_file, settings):
    settings.WORKFLOW_LOG_LEVEL = "INFO"
    setup_logging()

    logging.getLogger("workflow.test").debug("hidden")
    logging.getLogger("workflow.test").info("shown")

    assert flush_logs()
    assert [line.split(" ", 5)[-1] for line in log_lines(log_file)] == ["shown"]


def test_a_console_threshold_keeps_lower_records_off_the_console_only(log_file, capsys):
    setup_logging()

    with console_threshold(logging.WARNING):
        logging.getLogger("workflow.test").info("step details")
        logging.getLogger("workflow.test").warning("disk almost full")
        assert flush_logs()

    err = capsys.readouterr().err
    assert "disk almost full" in err
    assert "step details" not in err
    assert [line.split(" ", 5)[-1] for line in log_lines(log_file)] == ["step details", "disk almost full"]


def test_the_console_shows_every_record_again_after_the_threshold_block(log_file, capsys):
    setup_logging()
    with console_threshold(logging.WARNING):
        pass

    logging.getLogger("workflow.test").debug("shown")

    assert flush_logs()
    assert "shown" in capsys.readouterr().err


def test_on_a_terminal_console_lines_replace_an_open_progress_line(log_file, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    setup_logging()

    logging.getLogger("workflow.test").warning("disk almost full")

    assert flush_logs()
    assert terminal.getvalue().startswith(CLEAR_LINE)
    assert terminal.getvalue().endswith(" disk almost full\n")


def test_off_a_terminal_console_lines_have_no_control_characters(log_file, capsys):
    setup_logging()

    logging.getLogger("workflow.test").warning("disk almost full")

    assert flush_logs()
    assert re.match(r"\d{4}-\d\d-\d\d ", capsys.readouterr().err)


def test_the_file_rotates_at_the_size_limit(log_file, settings):
    settings.WORKFLOW_LOG_MAX_BYTES = 300
    settings.WORKFLOW_LOG_BACKUP_COUNT = 2
    setup_logging()

    for n in range(10):
        logging.getLogger("workflow.test").info("record %d", n)
        assert flush_logs()  # One batch per record, so each one is checked against the limit.

    rotated = log_file.with_name("workflow.log.1")
    assert rotated.exists()
    assert log_lines(log_file)[-1].endswith("record 9")
    assert all(len(path.read_bytes()) <= 300 for path in (log_file, rotated))


def test_a_process_finding_the_file_rotated_by_another_reopens_it_instead_of_rotating(tmp_path):
    path = tmp_path / "workflow.log"
    first, second = (SharedRotatingFileHandler(path, maxBytes=100, backupCount=3) for _ in range(2))
    first.write_text("a" * 80 + "\n")
    second.write_text("b" * 10 + "\n")

    first.write_text("c" * 20 + "\n")  # 81 + 21 bytes: rotates.
    second.write_text("d" * 20 + "\n")  # Past the limit too, but in the file already rotated.

    first.close()
    second.close()
    assert path.read_text() == "c" * 20 + "\n" + "d" * 20 + "\n"
    assert path.with_name("workflow.log.1").read_text() == "a" * 80 + "\n" + "b" * 10 + "\n"
    assert not path.with_name("workflow.log.2").exists()


def test_an_unwritable_log_file_leaves_the_console(tmp_path, settings, capsys):
    (tmp_path / "a-file").write_text("")
    settings.WORKFLOW_LOG_FILE = str(tmp_path / "a-file" / "workflow.log")
    setup_logging()

    logging.getLogger("workflow.test").info("msg=%s", "hello")

    assert flush_logs()
    err = capsys.readouterr().err
    assert "workflow logging: cannot open" in err
    assert re.search(SEED_LINE, err, re.MULTILINE)


def test_a_faulty_log_call_does_not_raise_into_the_caller(capsys):
    # A bare logger: pytest's own handler on the root logger raises on such a call.
    collect = Collect()
    pipeline = LogPipeline([collect], queue_size=100)
    logger = logging.Logger("bare")
    logger.addHandler(pipeline)

    logger.info("%d items", "not a number")
    logger.info("still logging")

    assert pipeline.shutdown(10)
    assert "--- Logging error ---" in capsys.readouterr().err
    assert collect.messages == ["still logging"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
