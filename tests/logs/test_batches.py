"""The hand-over in batches: callers to the listener without a lock, the listener to the writer,
and the writer's multi-row INSERTs."""

import logging
import threading
from datetime import datetime

import pytest
from django.conf import settings
from django.db import connection

from flows.models import SysLog
from runner.log import attach_database_handler, flush_logs, setup_logging
from runner.log.db_handler import _Values
from runner.log.pipeline import LogPipeline
from tests.logs.conftest import Collect


def test_records_from_many_threads_all_arrive_in_each_threads_order():
    collect = Collect()
    pipeline = LogPipeline([collect], queue_size=100_000)
    logger = logging.Logger("threads")
    logger.addHandler(pipeline)

    def log(thread: int) -> None:
        for n in range(2000):
            logger.info("%d %d", thread, n)

    threads = [threading.Thread(target=log, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert pipeline.shutdown(10)
    received = [tuple(map(int, message.split())) for message in collect.messages]
    for thread in range(4):
        assert [n for t, n in received if t == thread] == list(range(2000))


def test_a_record_logged_while_the_listener_waits_wakes_it():
    collect = Collect()
    pipeline = LogPipeline([collect], queue_size=10)
    logger = logging.Logger("idle")
    logger.addHandler(pipeline)
    logger.info("first")
    assert pipeline.drain(10)  # The listener has nothing left: it waits.

    logger.info("second")

    assert pipeline.drain(10)
    assert collect.messages == ["first", "second"]
    pipeline.shutdown(10)


def test_a_filter_on_the_log_object_still_applies():
    collect = Collect()
    pipeline = LogPipeline([collect], queue_size=10)
    pipeline.addFilter(lambda record: "secret" not in record.getMessage())
    logger = logging.Logger("filtered")
    logger.addHandler(pipeline)

    logger.info("the secret")
    logger.info("the rest")

    assert pipeline.shutdown(10)
    assert collect.messages == ["the rest"]


@pytest.mark.django_db(transaction=True)
def test_a_batch_longer_than_one_statement_arrives_whole_and_in_order(log_file, monkeypatch):
    monkeypatch.setattr("runner.log.db_handler.STATEMENT_BYTES", 300)
    setup_logging()
    attach_database_handler()

    for n in range(50):
        logging.getLogger("workflow.test").info("record %d %s", n, "x" * n)

    assert flush_logs()
    assert list(SysLog.objects.order_by("id").values_list("message", flat=True)) == [
        f"record {n} {'x' * n}" for n in range(50)
    ]


@pytest.mark.django_db(transaction=True)
def test_quotes_backslashes_and_lone_surrogates_reach_wf_syslog(log_file):
    setup_logging()
    attach_database_handler()

    # An unregistered logger, which does not propagate to pytest's handler: a lone surrogate in a
    # test's report would stop pytest-xdist.
    logger = logging.Logger("workflow.te'st")
    logger.addHandler(logging.getLogger("workflow").handlers[0])

    logger.info('it\'s a \\ and a "quote", %s and %% as they are')
    logger.info("bytes \udce9 undecodable")

    assert flush_logs()
    assert list(SysLog.objects.order_by("id").values_list("logger_name", "message")) == [
        ("workflow.te'st", 'it\'s a \\ and a "quote", %s and %% as they are'),
        ("workflow.te'st", "bytes \\udce9 undecodable"),
    ]


@pytest.mark.parametrize("created", [1766133542.002, 1766133542.9999996, 1766133542.0, 1766133542.1234565])
def test_created_at_is_what_the_orm_would_store(created):
    # DateTimeField.get_db_prep_value of the aware datetime: naive, in the connection's zone.
    tz = connection.timezone if settings.USE_TZ else None
    stored = datetime.fromtimestamp(created, tz).replace(tzinfo=None)
    expected = connection.ops.adapt_datetimefield_value(stored)

    text = _Values(connection).created_at(created)

    assert datetime.fromisoformat(text) == datetime.fromisoformat(expected)
