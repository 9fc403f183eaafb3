"""A step's result is bounded (values and bytes), and the parts it shares are stored once."""

import os

import pytest

from runner.engine import InvalidStepResult, RunCancelled, run_flow
from runner.jsonsafe import storable_result

from .helpers import PROCS, definition, new_logger, step


def fourfold_flow(steps: int = 40):
    """Each step returns its params, which reference the previous result four times: the
    result's size as JSON grows 4x per step (5 KB of flow, 4^40 values at the end)."""
    first = step("s1", a="x", b="x", c="x", d="x")
    rest = [step(f"s{k}", **dict.fromkeys("abcd", f"@s{k - 1}")) for k in range(2, steps + 1)]
    return definition(first, *rest)


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class MemoryGuard:
    """should_cancel for runs that would take gigabytes if a bound regressed: it cancels the
    run once the process has grown by more than `megabytes` since the start, so such a test
    fails with RunCancelled at about that size instead of exhausting the machine. `grown` is
    the largest growth it saw between steps, when the run's context is all that is kept."""

    def __init__(self, megabytes: int = 200) -> None:
        self.start = resident_bytes()
        self.limit = megabytes * 1024 * 1024
        self.grown = 0

    def __call__(self) -> bool:
        self.grown = max(self.grown, resident_bytes() - self.start)
        return self.grown > self.limit


def failing_run(*steps, **kwargs):
    with pytest.raises(InvalidStepResult) as raised:
        run_flow(definition(*steps), logger=new_logger(), packages=PROCS, **kwargs)
    return raised.value


def test_a_result_over_the_value_limit_fails_its_step_naming_the_step_and_the_limit():
    error = failing_run(step("a"), step("b", items=list(range(50))), max_result_nodes=20)

    assert error.step == "b"
    assert str(error) == "b (Echo.echo) returned a result of more than 20 values, the limit for one step"


def test_a_result_over_the_byte_limit_fails_its_step_naming_the_step_and_the_limit():
    error = failing_run(step("a", text="x" * 2000), max_result_bytes=1000)

    assert error.step == "a"
    assert str(error) == (
        "a (Echo.echo) returned a result of more than 1,000 bytes as JSON, the limit for one step"
    )


def test_a_result_of_exactly_the_value_limit_is_stored():
    # The result itself, the list and its three items: five values.
    context = run_flow(
        definition(step("a", items=[1, 2, 3])), logger=new_logger(), packages=PROCS, max_result_nodes=5
    )

    assert context["a"] == {"items": [1, 2, 3]}


def test_a_result_that_embeds_an_earlier_result_four_times_stores_one_copy_of_it():
    context = run_flow(fourfold_flow(3), logger=new_logger(), packages=PROCS)

    assert context["s3"]["a"] == context["s2"]
    assert context["s3"]["a"] is context["s3"]["d"]


def test_the_fourfold_flow_fails_at_a_small_value_limit_before_growing():
    # 5, 21, 85, 341, 1365, 5461, 21845 values: the seventh step passes 10,000.
    with pytest.raises(InvalidStepResult) as raised:
        run_flow(
            fourfold_flow(),
            logger=new_logger(),
            packages=PROCS,
            max_result_nodes=10_000,
            should_cancel=MemoryGuard(),
        )

    assert raised.value.step == "s7"
    assert "more than 10,000 values" in str(raised.value)


def test_the_fourfold_flow_fails_at_the_default_limits_in_little_memory():
    guard = MemoryGuard()
    try:
        with pytest.raises(InvalidStepResult) as raised:
            run_flow(fourfold_flow(), logger=new_logger(), packages=PROCS, should_cancel=guard)
    except RunCancelled:
        pytest.fail("the run grew past 200 MB: results are copied or unbounded")

    # s10 has 1,398,101 values, over the default of 1,000,000.
    assert raised.value.step == "s10"
    assert guard.grown < 50 * 1024 * 1024


class Probe:
    """An object stored as its repr, counting how many times it is read."""

    reads = 0

    def __repr__(self) -> str:
        Probe.reads += 1
        return "<probe>"


def test_storing_a_large_result_reads_no_more_of_it_than_the_limit_and_its_preview_need():
    Probe.reads = 0

    stored = storable_result({"items": [Probe()] * 100_000}, limit=1000)

    assert stored["__truncated__"] is True
    assert stored["preview"].startswith('{"items": ["<probe>", "<probe>"')
    assert Probe.reads < 1000
