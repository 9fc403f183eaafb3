"""Retries: attempts, which errors are retried, delays, cancel during a delay, events."""

import itertools

import pytest

from runner.engine import (
    InvalidStepResult,
    ParameterResolutionError,
    ProcedureFailed,
    RetryPolicy,
    RunCancelled,
    RunListener,
    is_retryable,
    retry_delay,
    run_flow,
)

from .helpers import PROCS, definition, new_logger, step
from .procs.Flaky import ATTEMPTS, TransientError

_keys = itertools.count()


class Attempts(RunListener):
    def __init__(self):
        self.events = []

    def step_started(self, run, step):
        self.events.append(("started", step.name))

    def attempt_failed(self, run, step, attempt, error, duration, delay):
        assert duration >= 0
        self.events.append(("attempt_failed", step.name, attempt, type(error.__cause__).__name__, delay))

    def step_finished(self, run, step, result, duration):
        self.events.append(("finished", step.name))

    def step_failed(self, run, step, error, duration):
        self.events.append(("failed", step.name, type(error).__name__))


def flaky(failures, error="ConnectionError", **retry):
    """A step failing `failures` times with `error`, with a retry policy if `retry` is given."""
    item = step("s", "fail_then_succeed", "Flaky", key=str(next(_keys)), failures=failures, error=error)
    if retry:
        item["retry"] = {"delay_seconds": 0, **retry}
    return item


def run(*steps, waits=None, **kwargs):
    """Runs with a `wait` that records its delays instead of sleeping."""
    delays = [] if waits is None else waits
    kwargs.setdefault("wait", lambda seconds: delays.append(seconds) or False)
    return run_flow(definition(*steps), logger=new_logger(), packages=PROCS, **kwargs)


def test_a_step_that_fails_twice_succeeds_at_the_third_of_three_attempts():
    listener = Attempts()
    context = run(flaky(2, max_attempts=3), listeners=[listener])

    assert context["s"] == {"attempt": 3}
    assert listener.events == [
        ("started", "s"),
        ("attempt_failed", "s", 1, "ConnectionError", 0),
        ("attempt_failed", "s", 2, "ConnectionError", 0),
        ("finished", "s"),
    ]


def test_a_step_that_fails_twice_fails_with_two_attempts_naming_them():
    with pytest.raises(ProcedureFailed) as raised:
        run(flaky(2, max_attempts=2))

    assert raised.value.attempts == 2
    assert (
        str(raised.value)
        == "s (Flaky.fail_then_succeed) failed after 2 attempts: ConnectionError: attempt 2 failed"
    )
    assert isinstance(raised.value.__cause__, ConnectionError)


def test_an_error_that_on_does_not_name_fails_at_the_first_attempt():
    listener = Attempts()
    with pytest.raises(ProcedureFailed) as raised:
        run(flaky(2, "ValueError", max_attempts=3, on=["ConnectionError"]), listeners=[listener])

    assert raised.value.attempts == 1
    assert listener.events == [("started", "s"), ("failed", "s", "ProcedureFailed")]


def test_on_matches_a_base_class_of_the_error():
    assert run(flaky(1, "TransientError", max_attempts=2, on=["OSError"]))["s"] == {"attempt": 2}


def test_on_matches_a_dotted_class_name():
    dotted = f"{TransientError.__module__}.TransientError"
    assert run(flaky(1, "TransientError", max_attempts=2, on=[dotted]))["s"] == {"attempt": 2}


def test_a_step_without_retry_fails_at_the_first_attempt():
    with pytest.raises(ProcedureFailed) as raised:
        run(flaky(1))
    assert raised.value.attempts == 1
    assert str(raised.value) == "s (Flaky.fail_then_succeed) failed: ConnectionError: attempt 1 failed"


def test_an_invalid_result_is_never_retried():
    key = str(next(_keys))
    item = step("s", "returns_list", "Flaky", key=key) | {"retry": {"max_attempts": 3, "delay_seconds": 0}}
    with pytest.raises(InvalidStepResult):
        run(item)
    assert ATTEMPTS[key] == 1


def test_a_parameter_resolution_error_is_never_retried():
    item = step("b", x="@a.missing") | {"retry": {"max_attempts": 3, "delay_seconds": 0}}
    listener = Attempts()
    with pytest.raises(ParameterResolutionError):
        run(step("a"), item, listeners=[listener])
    assert [e for e in listener.events if e[0] == "attempt_failed"] == []


def test_keyboard_interrupt_is_never_retried():
    item = step("s", "interrupt", "Flaky") | {"retry": {"max_attempts": 3, "delay_seconds": 0}}
    with pytest.raises(KeyboardInterrupt):
        run(item)


def test_each_attempt_gets_fresh_params():
    item = step("s", "spoil_params_then_fail", "Flaky", key=str(next(_keys)), rows=["a"])
    item["retry"] = {"max_attempts": 2, "delay_seconds": 0}
    assert run(item)["s"] == {"seen": ["a"]}


def test_the_delays_grow_by_the_backoff_up_to_the_cap_with_at_most_ten_percent_jitter():
    waits = []
    run(flaky(4, max_attempts=5, delay_seconds=10, backoff=3, max_delay_seconds=50), waits=waits)

    for delay, base in zip(waits, (10, 30, 50, 50), strict=True):
        assert base <= delay <= base * 1.1


def test_retry_delay_adds_the_jitter_given_by_random():
    policy = RetryPolicy(max_attempts=5, delay_seconds=10, backoff=2, max_delay_seconds=600)
    assert retry_delay(policy, 1, random=lambda: 0.0) == 10
    assert retry_delay(policy, 3, random=lambda: 1.0) == pytest.approx(44)


def test_retry_delay_stays_at_the_cap_for_the_last_of_a_hundred_attempts():
    policy = RetryPolicy(max_attempts=100, delay_seconds=1, backoff=10, max_delay_seconds=86_400)
    assert retry_delay(policy, 99, random=lambda: 0.0) == 86_400


def test_a_cancel_during_a_delay_cancels_the_run_before_the_next_attempt():
    listener = Attempts()
    with pytest.raises(RunCancelled) as raised:
        run(flaky(1, max_attempts=3), listeners=[listener], wait=lambda seconds: True)

    assert raised.value.step == "s"
    assert listener.events[-1] == ("failed", "s", "RunCancelled")


def test_the_default_wait_stops_a_long_delay_when_the_run_is_cancelled():
    asked = itertools.count()
    # Not cancelled when the step starts, cancelled at the first question during the delay.
    with pytest.raises(RunCancelled):
        run_flow(
            definition(flaky(1, max_attempts=2, delay_seconds=3600)),
            logger=new_logger(),
            packages=PROCS,
            should_cancel=lambda: next(asked) >= 1,
        )


def test_the_default_wait_without_should_cancel_sleeps_the_delay():
    context = run_flow(
        definition(flaky(1, max_attempts=2, delay_seconds=0.01)), logger=new_logger(), packages=PROCS
    )
    assert context["s"] == {"attempt": 2}


def test_start_attempt_goes_on_counting_the_attempts_of_the_first_step():
    listener = Attempts()
    with pytest.raises(ProcedureFailed) as raised:
        run(flaky(5, max_attempts=3), listeners=[listener], start_attempt=2)

    assert raised.value.attempts == 3
    assert [e[2] for e in listener.events if e[0] == "attempt_failed"] == [2]


def test_a_timeout_is_retryable_when_on_is_absent_or_names_timeout_error():
    assert is_retryable(RetryPolicy(max_attempts=2), "TimeoutError")
    assert is_retryable(RetryPolicy(max_attempts=2, on=("TimeoutError",)), "TimeoutError")
    assert not is_retryable(RetryPolicy(max_attempts=2, on=("ConnectionError",)), "TimeoutError")
    assert not is_retryable(None, "TimeoutError")
