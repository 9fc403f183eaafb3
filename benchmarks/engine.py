"""Engine overhead per step: a flow of N trivial steps against a plain loop doing the same calls;
then the cost of param copies: steps that pass on a list and an object from the previous result.

Run from the repository root:  .venv/bin/python benchmarks/engine.py
"""

import os
import sys

# Run as a script, this directory comes first on sys.path, where benchmarks/logging.py
# would shadow the standard library's logging: the repository root goes there instead.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import copy
import logging
import statistics
import time
import timeit

from benchmarks.procs.Step import Step
from runner.engine import RunListener, freeze, run_flow, thaw, validate_flow

PACKAGES = ("benchmarks.procs",)
REPEATS = 5


class TimingListener(RunListener):
    """Records every step's duration, as a run record would."""

    def __init__(self) -> None:
        self.durations = []

    def step_finished(self, run, step, result, duration):
        self.durations.append(duration)


def make_flow(n: int):
    """A validated flow of n steps, each taking the previous step's key."""
    steps = [{"name": "s0", "mod": "Step", "method": "next", "params": {"key": 0}}]
    steps += [
        {"name": f"s{i}", "mod": "Step", "method": "next", "params": {"key": f"@s{i - 1}.key"}}
        for i in range(1, n)
    ]
    definition, diagnostics = validate_flow({"procedures": steps}, packages=PACKAGES)
    assert definition is not None, diagnostics
    return definition


def make_copies_flow(n: int):
    """n steps, each taking a list of 10 rows and a 5-key object from the previous result and
    returning them: two copies per step (the private params, the stored result)."""
    first = {"key": 0, "rows": ROWS, "opts": OPTS}
    steps = [{"name": "s0", "mod": "Rows", "method": "next", "params": first}]
    steps += [
        {"name": f"s{i}", "mod": "Rows", "method": "next", "params": {k: f"@s{i - 1}.{k}" for k in first}}
        for i in range(1, n)
    ]
    definition, diagnostics = validate_flow({"procedures": steps}, packages=PACKAGES)
    assert definition is not None, diagnostics
    return definition


ROWS = [{"id": i, "name": f"row {i}"} for i in range(10)]
OPTS = {"a": 1, "b": "x", "c": [1, 2, 3], "d": True, "e": None}


def engine_run(definition, logger) -> float:
    listener = TimingListener()
    start = time.perf_counter()
    context = run_flow(definition, logger=logger, packages=PACKAGES, listeners=[listener])
    elapsed = time.perf_counter() - start
    assert context[definition.procedures[-1].name]["key"] == len(definition.procedures)
    assert len(listener.durations) == len(definition.procedures)
    return elapsed


def baseline_run(n: int, logger) -> float:
    # The core job without the engine: construct, call with the previous result's key, store.
    start = time.perf_counter()
    context = {}
    previous = {"key": 0}
    for i in range(n):
        previous = context[f"s{i}"] = Step(logger).next(context, {"key": previous["key"]})
    elapsed = time.perf_counter() - start
    assert previous["key"] == n
    return elapsed


def main() -> None:
    logger = logging.getLogger("benchmark.engine")
    logger.disabled = True
    print(f"engine benchmark: median of {REPEATS} runs, listener attached, logging disabled")
    header = ("N", "engine s", "baseline s", "steps/s", "overhead us/step", "ratio", "validate us/step")
    print("{:>8} {:>10} {:>11} {:>10} {:>17} {:>6} {:>17}".format(*header))
    overheads = {}
    for n in (1_000, 10_000, 100_000):
        start = time.perf_counter()
        definition = make_flow(n)
        validate = (time.perf_counter() - start) / n * 1e6
        engine = statistics.median(engine_run(definition, logger) for _ in range(REPEATS))
        baseline = statistics.median(baseline_run(n, logger) for _ in range(REPEATS))
        overheads[n] = (engine - baseline) / n * 1e6
        print(
            f"{n:>8,} {engine:>10.4f} {baseline:>11.4f} {n / engine:>10,.0f} "
            f"{overheads[n]:>17.2f} {engine / baseline:>6.1f} {validate:>17.2f}"
        )
    print(
        f"linearity: overhead per step at 100,000 is {overheads[100_000]:.2f} us, "
        f"at 1,000 {overheads[1_000]:.2f} us (x{overheads[100_000] / overheads[1_000]:.2f})"
    )
    copies_benchmark(logger)


def copies_benchmark(logger) -> None:
    print("param copies: each step takes 10 rows and a 5-key object from the previous result")
    print("{:>8} {:>10} {:>10}".format("N", "engine s", "us/step"))
    for n in (1_000, 10_000, 100_000):
        definition = make_copies_flow(n)
        elapsed = statistics.median(copies_run(definition, logger) for _ in range(REPEATS))
        print(f"{n:>8,} {elapsed:>10.4f} {elapsed / n * 1e6:>10.2f}")
    value = freeze({"rows": ROWS, "opts": OPTS})
    number = 10_000
    thawed = timeit.timeit(lambda: thaw(value), number=number) / number * 1e6
    deep = timeit.timeit(lambda: copy.deepcopy(value), number=number) / number * 1e6
    print(f"one copy of the rows and the object: thaw {thawed:.2f} us, copy.deepcopy {deep:.2f} us")


def copies_run(definition, logger) -> float:
    start = time.perf_counter()
    context = run_flow(definition, logger=logger, packages=PACKAGES)
    elapsed = time.perf_counter() - start
    assert context[definition.procedures[-1].name]["rows"] == ROWS
    return elapsed


if __name__ == "__main__":
    main()
