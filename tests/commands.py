"""Management commands run in this process through the command line's own path (argument
parsing, refusals and exit codes included), as a shell would see them."""

import io
import subprocess
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout

import pytest
from django.core.management.base import BaseCommand
from django.db import connections


def command_line(
    monkeypatch, command: type[BaseCommand], name: str
) -> Callable[..., subprocess.CompletedProcess]:
    """`run(*args)` runs `manage.py NAME *args` and returns its exit code, stdout and stderr."""
    # run_from_argv closes the connections when it ends, as a process would; the test's
    # transaction lives on one of them.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*args: str) -> subprocess.CompletedProcess:
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr), pytest.raises(SystemExit) as exited:
            command(stdout=stdout, stderr=stderr).run_from_argv(["manage.py", name, *args])
            raise SystemExit(0)  # the command returns normally when done
        return subprocess.CompletedProcess(args, exited.value.code, stdout.getvalue(), stderr.getvalue())

    return run
