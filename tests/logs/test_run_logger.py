import logging

import pytest

from flows.models import SysLog
from runner.log import (
    attach_database_handler,
    flush_logs,
    run_logger,
    setup_logging,
)


def test_a_run_logger_is_named_after_its_run_and_propagates_to_workflow():
    logger = run_logger(42)

    assert logger.name == "workflow.run.42"
    assert logger.parent is logging.getLogger("workflow.run")
    assert logger.parent.parent is logging.getLogger("workflow")


def test_run_loggers_and_their_children_are_not_kept_by_the_logging_module():
    logger = run_logger(12345)
    child = logger.getChild("step1")

    assert child.name == "workflow.run.12345.step1"
    assert child.parent is logger
    assert not [name for name in logging.Logger.manager.loggerDict if name.startswith("workflow.run.")]


@pytest.mark.django_db(transaction=True)
def test_records_of_a_run_are_found_by_its_id_range(log_file):
    setup_logging()
    attach_database_handler()
    logging.getLogger("workflow.test").info("before the run")
    assert flush_logs()
    since = SysLog.objects.newest_id()
    run, other = run_logger(7), run_logger(8)

    run.info("first")
    other.info("another run")
    run.info("middle")
    run.info("last")
    other.info("another run again")

    assert flush_logs()
    first, last = SysLog.objects.id_range("workflow.run.7", since)
    assert SysLog.objects.get(id=first).message == "first"
    assert SysLog.objects.get(id=last).message == "last"
    assert first > since
    in_range = SysLog.objects.filter(id__range=(first, last), logger_name="workflow.run.7").order_by("id")
    assert list(in_range.values_list("message", flat=True)) == ["first", "middle", "last"]


@pytest.mark.django_db(transaction=True)
def test_a_run_that_logged_nothing_has_no_id_range(log_file):
    setup_logging()
    attach_database_handler()

    assert SysLog.objects.id_range("workflow.run.9", SysLog.objects.newest_id()) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_the_newest_log_id_is_zero_on_an_empty_table():
    assert SysLog.objects.newest_id() == 0
