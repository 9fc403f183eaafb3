import logging
import os
import signal
import threading

import pytest

from flows.models import SysLog
from runner.log import attach_database_handler, flush_logs, setup_logging
from runner.log.pipeline import LogPipeline
from tests.logs.conftest import Collect, log_lines


def test_setting_up_twice_keeps_one_log_object(log_file):
    setup_logging()
    attach_database_handler()
    [pipeline] = logging.getLogger("workflow").handlers
    database = pipeline.database

    setup_logging()
    attach_database_handler()

    assert logging.getLogger("workflow").handlers == [pipeline]
    assert pipeline.database is database


def test_a_full_queue_drops_new_records_without_waiting_and_reports_their_count():
    gate = threading.Event()
    collect = Collect(gate)
    pipeline = LogPipeline([collect], queue_size=5)
    logger = logging.Logger("drops")
    logger.addHandler(pipeline)

    for n in range(20):
        logger.info("record %d", n)  # The listener is stuck on the gate: none of these waits.
    gate.set()

    assert pipeline.shutdown(10)
    *delivered, notice = collect.messages
    dropped = int(notice.removesuffix(" log records dropped (queue full)"))
    assert delivered == [f"record {n}" for n in range(len(delivered))]
    assert dropped + len(delivered) == 20
    assert dropped >= 10  # At most one batch in the listener's hands and five in the queue.


class WatchedPipeline(LogPipeline):
    def prepare(self, record):
        prepared = super().prepare(record)
        self.seen = (prepared.msg, prepared.args, prepared.exc_info, prepared.exc_text)
        return prepared


def test_the_caller_renders_the_message_and_leaves_the_traceback_to_the_listener():
    collect = Collect()
    pipeline = WatchedPipeline([collect], queue_size=5)
    logger = logging.Logger("bare")
    logger.addHandler(pipeline)

    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("step %s failed", "step1")

    assert pipeline.shutdown(10)
    msg, args, exc_info, exc_text = pipeline.seen
    assert (msg, args, exc_info[0], exc_text) == ("step step1 failed", None, ValueError, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_worker_logs_through_its_own_threads(log_file):
    setup_logging()
    attach_database_handler()
    logging.getLogger("workflow.test").info("from the parent")
    assert flush_logs()

    pid = os.fork()
    if pid == 0:  # The child: it must not rely on the parent's threads, nor hang.
        code = 1
        try:
            signal.alarm(30)
            logging.getLogger("workflow.test").info("from the child")
            code = 0 if flush_logs() else 2
        finally:
            os._exit(code)

    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    logging.getLogger("workflow.test").info("from the parent again")
    assert flush_logs()
    assert sorted(SysLog.objects.values_list("message", flat=True)) == [
        "from the child",
        "from the parent",
        "from the parent again",
    ]
    assert [line.split(" ", 5)[-1] for line in log_lines(log_file)] == [
        "from the parent",
        "from the child",
        "from the parent again",
    ]
