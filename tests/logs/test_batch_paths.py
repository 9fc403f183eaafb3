"""The listener's and the writer's batch paths make what the record-by-record ones make: the same
console and file lines, the same wf_syslog text."""

import logging
import sys

import pytest

from flows.models import SysLog
from runner.log import attach_database_handler, console_threshold, flush_logs, setup_logging
from runner.log.formatting import LineFormatter
from tests.logs.conftest import log_lines


def make(message, *args, level=logging.INFO, exc_info=None, stack_info=None, func="step", **extra):
    record = logging.LogRecord(
        "workflow.test", level, "/flows/procs.py", 7, message, args, exc_info, func, stack_info
    )
    # A fixed time, so that two batches built apart have the same lines.
    record.__dict__.update({"created": 1766133542.002, "msecs": 2.0, **extra})
    return record


def failure():
    try:
        raise ValueError("bad\rvalue")
    except ValueError:
        return sys.exc_info()


def batch():
    return [
        make("plain %s", "text"),
        make("tab\tstays"),
        make("accents café ✓ 中文 and emoji 😀"),
        make("newline\nand\rreturn"),
        make("NUL \x00 ESC \x1b[31m DEL \x7f C1 \x85 separators \u2028 \u2029"),
        make("step %s failed", "s1", level=logging.ERROR, exc_info=failure()),
        make("with a stack", stack_info="Stack (most recent call last):\n  frame\x07"),
        make("unknown function", func=None),
        make("custom level", levelname="NOTICE"),
        make("msecs not whole", msecs=2.75),
        make("a second later", created=1766133543.25, msecs=250.0),
        make("%d%%", 100),
    ]


def test_the_batch_lines_are_the_lines_of_format():
    expected = [LineFormatter().format(record) for record in batch()]

    assert LineFormatter().lines(batch()) == expected


@pytest.mark.parametrize("index", range(len(batch())))
def test_each_record_alone_in_a_batch_gets_its_format_line(index):
    expected = LineFormatter().format(batch()[index])

    assert LineFormatter().lines([batch()[index]]) == [expected]


def test_a_clean_batch_keeps_its_lines_and_a_record_formatted_twice_gets_the_same_line():
    records = [make("record %d", n) for n in range(5)]
    formatter = LineFormatter()

    first = formatter.lines(records)
    records.append(make("ok\n2025-12-19 08:39:02.002 INFO Kt prt msg=forged"))
    second = formatter.lines(records)

    assert second[:5] == first
    assert second[5].endswith(" ok\\n2025-12-19 08:39:02.002 INFO Kt prt msg=forged")
    assert [formatter.format(record) for record in records] == second


@pytest.mark.django_db(transaction=True)
def test_one_record_over_the_column_limit_is_cut_and_the_rest_of_its_batch_is_not(log_file, monkeypatch):
    monkeypatch.setattr("runner.log.db_handler.MESSAGE_LIMIT", 100)
    setup_logging()
    attach_database_handler()
    logger = logging.getLogger("workflow.test")

    # Neither on the console nor in pytest's captured log: pytest keeps both in the test's
    # report, and a lone surrogate there stops pytest-xdist from sending the report on.
    monkeypatch.setattr(logging.getLogger("workflow"), "propagate", False)
    with console_threshold(logging.WARNING):
        logger.info("before")
        long = "h" * 60 + "m" * 30 + "t" * 60
        logger.info(long)
        logger.info("bytes \udce9 undecodable, after")
        assert flush_logs()
    assert list(SysLog.objects.order_by("id").values_list("message", flat=True)) == [
        "before",
        "h" * 50 + "\n[... 50 characters cut ...]\n" + "t" * 50,
        "bytes \\udce9 undecodable, after",
    ]
    assert log_lines(log_file)[1].endswith(f" {long}")
