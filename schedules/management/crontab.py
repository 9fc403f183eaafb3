"""Reading a user crontab (`m h dom mon dow command`) for `schedule import-crontab`.

Pure text work, no database: each line becomes a Job (a `manage.py runflow NAME` call to
turn into a schedule), a Refusal (a runflow call that cannot become one, with the reason)
or a Remark (a line that is not a runflow call, or a variable setting). Comments and blank
lines yield nothing.
"""

import argparse
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

ZONE_VARIABLES = ("CRON_TZ", "TZ")  # CRON_TZ wins when both are set
SETTING = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
PUNCTUATION = set("();<>|&")
# cron turns an unescaped % into a newline and feeds the rest to the command's stdin.
UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
MENTIONS_RUNFLOW = re.compile(r"manage\.py\s+runflow\b")


@dataclass(frozen=True)
class Job:
    number: int
    cron: str
    tz: str | None  # None: no CRON_TZ/TZ above it
    flow: str
    pairs: list[str] = field(default_factory=list)
    input_json: str | None = None
    concurrency: str | None = None  # runflow's --concurrency, if given


@dataclass(frozen=True)
class Refusal:
    number: int
    reason: str


@dataclass(frozen=True)
class Remark:
    number: int
    kind: str  # "skipped" or "note"
    text: str


class NotConvertible(ValueError):
    """A runflow call that a schedule cannot reproduce; the message says why."""


def read(text: str) -> Iterator[Job | Refusal | Remark]:
    """Every meaningful line of the crontab, in order."""
    zones: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if setting := SETTING.match(line):
            yield _setting(number, setting[1], _unquoted(setting[2].strip()), zones)
            continue
        yield _entry(number, line, next((zones[v] for v in ZONE_VARIABLES if zones.get(v)), None))


def _setting(number: int, name: str, value: str, zones: dict[str, str]) -> Remark:
    if name not in ZONE_VARIABLES:
        return Remark(number, "note", f"{name} is ignored (only CRON_TZ and TZ are kept)")
    zones[name] = value
    if not value:
        return Remark(number, "note", f"{name} is cleared for the lines below")
    return Remark(number, "note", f"{name}={value} applies to the lines below")


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _entry(number: int, line: str, tz: str | None) -> Job | Refusal | Remark:
    timing, command = _split_timing(line)
    try:
        call = runflow_call(command) if command is not None else None
    except NotConvertible as err:
        return Refusal(number, str(err))
    if call is None:
        if MENTIONS_RUNFLOW.search(line):
            # Too few time fields: cron would read part of the command as one of them.
            return Refusal(number, "not a crontab entry: five time fields or a @macro, then the command")
        return Remark(number, "skipped", "not a `manage.py runflow` call")
    if timing.lower() == "@reboot":
        return Refusal(number, "@reboot is not convertible: it has no due times")
    return Job(number, timing, tz, **call)


def _split_timing(line: str) -> tuple[str, str | None]:
    """(the five fields or the macro, the command); command None when the line has too few fields."""
    count = 1 if line.startswith("@") else 5
    parts = line.split(None, count)
    if len(parts) <= count:
        return line, None
    return " ".join(parts[:count]), parts[count]


def runflow_call(command: str) -> dict | None:
    """The runflow options of a crontab command, None when it does not call `manage.py runflow`;
    NotConvertible when it does but a schedule could not do the same."""
    command, stdin = _without_stdin(command)
    try:
        segments = _segments(command)
    except ValueError as err:
        if "runflow" in command:
            raise NotConvertible(f"the command cannot be read: {err}") from None
        return None
    found = [(i, at) for i, (_, words) in enumerate(segments) if (at := _runflow_index(words)) is not None]
    if not found:
        return None
    if len(found) > 1:
        raise NotConvertible("the command calls runflow more than once")
    if stdin:
        raise NotConvertible("the command has an unescaped %, which cron turns into input on stdin")
    [(segment, at)] = found
    _check_surroundings(segments, segment)
    return _runflow_options(segments[segment][1][at + 2 :])


def _without_stdin(command: str) -> tuple[str, str]:
    command, *stdin = UNESCAPED_PERCENT.split(command, maxsplit=1)
    return command.replace("\\%", "%"), "".join(stdin)


def _segments(command: str) -> list[tuple[str, list[str]]]:
    """The simple commands of a shell line, each with the operator before it ("" for the first),
    redirections removed: `cd /srv && python manage.py runflow x >> log 2>&1`."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    segments: list[tuple[str, list[str]]] = [("", [])]
    tokens = iter(list(lexer))
    for token in tokens:
        operator = token.replace("(", "").replace(")", "") if set(token) <= PUNCTUATION else None
        if operator is None:
            segments[-1][1].append(token)
        elif "<" in operator or ">" in operator:
            # `2>&1`: the digits before the operator name a descriptor; the next word is the target.
            words = segments[-1][1]
            if words and words[-1].isdigit():
                words.pop()
            next(tokens, None)
        elif operator:
            segments.append((operator, []))
    return [(operator, words) for operator, words in segments if words]


def _runflow_index(words: list[str]) -> int | None:
    for i, word in enumerate(words[:-1]):
        if os.path.basename(word) == "manage.py" and words[i + 1] == "runflow":
            return i
    return None


def _check_surroundings(segments: list[tuple[str, list[str]]], at: int) -> None:
    """Commands before runflow may prepare it (`cd dir &&`); after it, only its output may be piped."""
    for operator, _ in segments[1 : at + 1]:
        if operator not in ("&&", ";"):
            raise NotConvertible(
                f"runflow runs only under a condition (`{operator}`), which a schedule has not"
            )
    for operator, words in segments[at + 1 :]:
        if operator not in ("|", "|&"):
            raise NotConvertible(
                f"the command runs more after runflow (`{operator} {words[0]}`), which a schedule would not"
            )


class _RunflowArguments(argparse.ArgumentParser):
    def error(self, message):
        raise NotConvertible(f"runflow arguments: {message}")


def _runflow_parser() -> argparse.ArgumentParser:
    # runflow's own options; the others (--settings, ...) would change what the line does.
    parser = _RunflowArguments(prog="runflow", add_help=False)
    parser.add_argument("flow")
    parser.add_argument("--input", action="append", default=[], dest="pairs")
    parser.add_argument("--input-json")
    parser.add_argument("--concurrency", choices=("allow", "skip_if_running"))
    parser.add_argument("--check", action="store_true")
    # The scheduler hands every run to the queue and prints nothing: both are moot.
    parser.add_argument("--queue", action="store_true")
    parser.add_argument("--json", action="store_true")
    return parser


def _runflow_options(arguments: list[str]) -> dict:
    # Conservative: a quoted "$" is refused too, as the shell's quoting is gone by now.
    if any("$" in a or "`" in a for a in arguments):
        raise NotConvertible("runflow's arguments use shell expansion ($ or `), known only when cron runs it")
    options, unknown = _runflow_parser().parse_known_args(arguments)
    if unknown:
        raise NotConvertible(f"unsupported runflow argument {unknown[0]!r}")
    if options.check:
        raise NotConvertible("runflow --check only validates the flow; it runs nothing")
    return {
        "flow": options.flow,
        "pairs": options.pairs,
        "input_json": options.input_json,
        "concurrency": options.concurrency,
    }
