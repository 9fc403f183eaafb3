"""Control characters in a message are escaped on the console and in the file: a message
cannot forge a line. wf_syslog keeps the message as it was logged."""

import logging

import pytest

from flows.models import SysLog
from runner.log import attach_database_handler, flush_logs, setup_logging
from tests.logs.conftest import log_lines

FORGED = "ok\n2025-12-19 08:39:02.002 INFO Kt prt msg=forged"


def test_a_newline_in_a_message_cannot_forge_a_line_in_the_file(log_file):
    setup_logging()

    logging.getLogger("workflow.test").info(FORGED)

    assert flush_logs()
    [line] = log_lines(log_file)
    assert line.endswith(" ok\\n2025-12-19 08:39:02.002 INFO Kt prt msg=forged")


def test_a_newline_in_a_message_cannot_forge_a_line_on_the_console(log_file, capsys):
    setup_logging()

    logging.getLogger("workflow.test").info(FORGED)

    assert flush_logs()
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert " ok\\n2025-12-19" in err


def test_control_characters_are_written_as_escapes(log_file):
    setup_logging()

    logging.getLogger("workflow.test").info("a\rb\x00c\x1b[31md\x7fe\x85f\u2028g\u2029h")

    assert flush_logs()
    [line] = log_lines(log_file)
    assert line.endswith(" a\\rb\\x00c\\x1b[31md\\x7fe\\x85f\\u2028g\\u2029h")


def test_a_tab_in_a_message_stays_a_tab(log_file):
    setup_logging()

    logging.getLogger("workflow.test").info("name\tvalue")

    assert flush_logs()
    assert log_lines(log_file)[0].endswith(" name\tvalue")


def test_a_traceback_keeps_its_lines_but_not_its_other_control_characters(log_file):
    setup_logging()

    try:
        raise ValueError("bad\rvalue\x00")
    except ValueError:
        logging.getLogger("workflow.test").exception("step\nfailed")

    assert flush_logs()
    lines = log_lines(log_file)
    assert lines[0].endswith(" step\\nfailed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: bad\\rvalue\\x00"


@pytest.mark.django_db(transaction=True)
def test_wf_syslog_keeps_the_message_as_logged(log_file):
    setup_logging()
    attach_database_handler()

    logging.getLogger("workflow.test").info("a\nb\rc\x1bd\te\x00f")

    assert flush_logs()
    assert SysLog.objects.get().message == "a\nb\rc\x1bd\te\x00f"
