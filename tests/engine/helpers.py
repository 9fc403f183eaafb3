import itertools
import logging

from runner.engine import validate_flow

PROCS = ("tests.engine.procs",)
_loggers = itertools.count()


def step(name, method="echo", mod="Echo", **params):
    return {"name": name, "mod": mod, "method": method, "params": params}


def flow(*steps):
    return {"procedures": list(steps)}


def definition(*steps):
    found, diagnostics = validate_flow(flow(*steps), packages=PROCS)
    assert found is not None, diagnostics
    return found


def problems(source, packages=PROCS):
    """(code, path) of every diagnostic for ``source``."""
    found, diagnostics = validate_flow(source, packages=packages)
    assert (found is None) == bool(diagnostics)
    return [(d.code, d.path) for d in diagnostics]


def only_diagnostic(source, packages=PROCS):
    _, diagnostics = validate_flow(source, packages=packages)
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def new_logger():
    """A fresh logger per test, so handlers added by one test cannot leak into another."""
    return logging.getLogger(f"tests.engine.run{next(_loggers)}")
