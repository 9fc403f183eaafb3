"""What a person sees of `runflow`: on a terminal (a real process on a pseudo-terminal), through
a pipe or a file, and with -v 0 (cron)."""

import io
import os
import pty
import re
import subprocess
import sys

import pytest
from django.core.management.base import OutputWrapper

from flows.models import SysLog
from runner.log.pipeline import CLEAR_LINE
from runner.management.commands.runflow import terminal_style
from tests.factories import EXAMPLE, make_flow, step
from tests.processes import ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)

COLOUR = re.compile(r"\x1b\[[0-9;]*m")
GREEN, RED = "\x1b[32", "\x1b[31"


def runflow_on_a_terminal(tmp_path, *args: str, **env: str) -> tuple[int, str]:
    """`runflow ARGS` with its stderr on a pseudo-terminal: the exit code and all it wrote there."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runflow", *args],
        cwd=ROOT,
        env=child_env(tmp_path, **env),
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    output = b""
    while chunk := _read_pty(primary):
        output += chunk
    os.close(primary)
    return process.wait(timeout=60), output.decode()


def _read_pty(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # the child closed its end
        return b""


def screen(output: str) -> list[str]:
    """The lines the terminal ends up showing: colours dropped, a cleared line replaced."""
    lines = [COLOUR.sub("", line).split(CLEAR_LINE)[-1] for line in output.split("\r\n")]
    return [line for line in lines if line]


def test_on_a_terminal_each_step_is_shown_once(tmp_path):
    make_flow("example", *EXAMPLE)

    code, output = runflow_on_a_terminal(tmp_path, "example")

    assert code == 0
    shown = screen(output)
    assert len(shown) == 3, shown
    assert re.fullmatch(r"✔ step1 \(common\.Kt\.prt\) \d+\.\d ms", shown[0]), shown
    assert re.fullmatch(r"✔ step2 \(common\.Kt\.prt\) \d+\.\d ms", shown[1]), shown
    assert re.fullmatch(r"run \d+ succeeded in \d+\.\d{3} s \(log lines in .*workflow\.log\)", shown[2]), (
        shown
    )


def test_on_a_terminal_a_step_is_shown_while_it_runs_then_completed_in_place(tmp_path):
    make_flow("example", *EXAMPLE)

    _, output = runflow_on_a_terminal(tmp_path, "example")

    assert f"▶ step1 (common.Kt.prt) …{CLEAR_LINE}" in COLOUR.sub("", output)


def test_on_a_terminal_the_log_file_and_wf_syslog_still_get_every_line(tmp_path):
    make_flow("example", *EXAMPLE)

    runflow_on_a_terminal(tmp_path, "example")

    logged = (tmp_path / "workflow.log").read_text()
    assert " DEBUG executor run_steps step step1 (common.Kt.prt) started\n" in logged
    assert " INFO Kt prt msg=hello\n" in logged
    levels = set(
        SysLog.objects.filter(logger_name__startswith="workflow.run.").values_list("level", flat=True)
    )
    assert levels == {"DEBUG", "INFO"}


def test_on_a_terminal_warnings_still_show(tmp_path):
    make_flow("careful", step("check", "warn", "Testing", text="disk almost full"))

    _, output = runflow_on_a_terminal(tmp_path, "careful")

    assert any(re.search(r" WARNING Testing warn disk almost full$", line) for line in screen(output)), output


def test_on_a_terminal_success_is_green_and_nothing_is_red(tmp_path):
    make_flow("example", *EXAMPLE)

    _, output = runflow_on_a_terminal(tmp_path, "example")

    assert GREEN in output
    assert RED not in output


def test_on_a_terminal_a_failure_is_red(tmp_path):
    make_flow("boom", step("second", "boom", "Testing", why="kaput"))

    code, output = runflow_on_a_terminal(tmp_path, "boom")

    assert code == 1
    red_lines = [COLOUR.sub("", line) for line in output.split("\r\n") if RED in line]
    assert any("✘ second (Testing.boom) failed after" in line for line in red_lines), output
    assert any(line.startswith("runflow: run ") and "ValueError: kaput" in line for line in red_lines), output
    assert GREEN not in output


def test_no_colour_on_a_terminal_when_no_color_is_set(tmp_path):
    make_flow("boom", step("second", "boom", "Testing", why="kaput"))

    _, output = runflow_on_a_terminal(tmp_path, "boom", NO_COLOR="1")

    assert "runflow: run " in output
    assert not COLOUR.search(output), output


def test_no_colour_when_stderr_is_not_a_terminal(runflow):
    make_flow("boom", step("second", "boom", "Testing", why="kaput"))

    result = runflow("boom")

    assert result.returncode == 1
    assert "\x1b" not in result.stderr


def test_an_empty_no_color_keeps_the_colours():
    # no-color.org: only a value other than "" turns colours off.
    terminal = OutputWrapper(_Terminal())

    with pytest.MonkeyPatch.context() as env:
        env.setenv("NO_COLOR", "")
        style = terminal_style(terminal, no_color=False, force_color=False)

    assert GREEN in style.SUCCESS("ok")


def test_force_color_colours_a_pipe_too():
    style = terminal_style(OutputWrapper(io.StringIO()), no_color=False, force_color=True)

    assert RED in style.ERROR("failed")


def test_quiet_runflow_prints_nothing_when_the_run_succeeds(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "-v", "0")

    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("", "")


def test_quiet_runflow_prints_the_error_and_the_reason_when_the_run_fails(runflow_here):
    make_flow("boom", step("first", msg="hello"), step("second", "boom", "Testing", why="kaput"))

    result = runflow_here("boom", "-v", "0")

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert " ERROR executor run_steps second (Testing.boom) failed: ValueError: kaput" in lines[0]
    assert lines[-1].startswith("runflow: run ") and lines[-1].endswith("ValueError: kaput")
    assert not any(" INFO " in line or " DEBUG " in line for line in lines)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True
