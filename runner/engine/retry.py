"""Retry policies of steps: which failures are retried, and after how long."""

import random as _random
from collections.abc import Callable
from dataclasses import dataclass

from .diagnostics import key_path

MAX_ATTEMPTS = 100
MAX_DELAY_SECONDS = 86_400  # one day
MAX_BACKOFF = 10
DEFAULT_DELAY_SECONDS = 1.0
DEFAULT_BACKOFF = 2.0
DEFAULT_MAX_DELAY_SECONDS = 600.0  # or the first delay, when that is longer
JITTER = 0.1  # a delay is lengthened by 0 to 10%, so that runs failing together spread out
MAX_TIMEOUT_SECONDS = 7 * 86_400
TIMEOUT = "TimeoutError"  # the class name a timed-out attempt is matched by


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a step is attempted again; ``on`` is None (any Exception) or the class names retried."""

    max_attempts: int
    delay_seconds: float = DEFAULT_DELAY_SECONDS
    backoff: float = DEFAULT_BACKOFF
    max_delay_seconds: float = DEFAULT_MAX_DELAY_SECONDS
    on: tuple[str, ...] | None = None


def is_retryable(policy: RetryPolicy | None, error: BaseException | str) -> bool:
    """Whether a failed attempt may be retried under ``policy`` (attempts left aside).

    ``error`` is the exception a procedure raised, or a class name: "TimeoutError" for an
    attempt the supervisor stopped. ``on`` matches the class or any base class, by its name
    ("ConnectionError") or its dotted name ("requests.exceptions.ConnectionError").
    """
    if policy is None:
        return False
    if isinstance(error, str):
        return policy.on is None or error in policy.on or f"builtins.{error}" in policy.on
    if not isinstance(error, Exception):
        return False  # KeyboardInterrupt, SystemExit: the process is being stopped
    if policy.on is None:
        return True
    for cls in type(error).__mro__:
        if cls.__name__ in policy.on or f"{cls.__module__}.{cls.__qualname__}" in policy.on:
            return True
    return False


def retry_delay(policy: RetryPolicy, attempt: int, random: Callable[[], float] = _random.random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first): the first
    delay times backoff for each attempt before, capped, plus a jitter of 0 to 10%."""
    # Grown one attempt at a time and stopped at the cap, rather than backoff ** 99.
    delay = policy.delay_seconds
    for _ in range(attempt - 1):
        if delay >= policy.max_delay_seconds:
            break
        delay *= policy.backoff
    delay = min(delay, policy.max_delay_seconds)
    return delay + delay * JITTER * random()


def retry_problems(value) -> tuple[RetryPolicy | None, list[tuple[str, str, str]]]:
    """Read a step's ``retry`` object: ``(policy, problems)``, each problem being
    ``(code, path below retry, message)``; the policy is None when there is a problem."""
    if not isinstance(value, dict):
        return None, [("SCHEMA", "", '"retry" must be an object such as {"max_attempts": 3}')]
    problems = [("SCHEMA", key_path(key), _unknown(key)) for key in value if key not in _RETRY_KEYS]
    attempts = value.get("max_attempts")
    if "max_attempts" not in value:
        problems.append(
            ("SCHEMA", ".max_attempts", '"max_attempts" is required: the number of attempts in total')
        )
    elif type(attempts) is not int or not 1 <= attempts <= MAX_ATTEMPTS:
        problems.append(("OUT_OF_RANGE", ".max_attempts", f"must be a whole number from 1 to {MAX_ATTEMPTS}"))
    delay = _number(value, "delay_seconds", DEFAULT_DELAY_SECONDS, 0, MAX_DELAY_SECONDS, problems)
    backoff = _number(value, "backoff", DEFAULT_BACKOFF, 1, MAX_BACKOFF, problems)
    cap_default = max(DEFAULT_MAX_DELAY_SECONDS, delay or 0)
    cap = _number(value, "max_delay_seconds", cap_default, 0, MAX_DELAY_SECONDS, problems)
    if delay is not None and cap is not None and cap < delay:
        message = f"must be at least delay_seconds ({delay:g}): it caps the delays that start there"
        problems.append(("OUT_OF_RANGE", ".max_delay_seconds", message))
    on = _class_names(value.get("on"), problems) if "on" in value else None
    if problems:
        return None, problems
    return RetryPolicy(attempts, float(delay), float(backoff), float(cap), on), []


def timeout_problem(value) -> str | None:
    """Why ``value`` is not a valid ``timeout_seconds``, or None."""
    if not _is_number(value) or not 0 < value <= MAX_TIMEOUT_SECONDS:
        return f"must be a number of seconds, more than 0 and at most {MAX_TIMEOUT_SECONDS:,} (7 days)"
    return None


_RETRY_KEYS = ("max_attempts", "delay_seconds", "backoff", "max_delay_seconds", "on")


def _unknown(key) -> str:
    return f'unknown key "{key}": retry has {", ".join(_RETRY_KEYS)}'


def _is_number(value) -> bool:
    # bool is an int to Python, never a number in a definition.
    return type(value) in (int, float)


def _number(value: dict, key: str, default: float, low: float, high: float, problems: list) -> float | None:
    if key not in value:
        return default
    number = value[key]
    # Written so that NaN, which compares false with everything, is out of range too.
    if _is_number(number) and low <= number <= high:
        return number
    problems.append(("OUT_OF_RANGE", f".{key}", f"must be a number from {low:g} to {high:,}"))
    return None


def _class_names(on, problems: list) -> tuple[str, ...] | None:
    if not isinstance(on, list) or not on:
        message = '"on" must be a non-empty list of exception class names, such as ["ConnectionError"]'
        problems.append(("SCHEMA", ".on", message))
        return None
    names = []
    for index, name in enumerate(on):
        if isinstance(name, str) and all(part.isidentifier() for part in name.split(".")):
            names.append(name)
        else:
            message = 'must be a class name ("ConnectionError") or a dotted one ("http.client.HTTPException")'
            problems.append(("BAD_CLASS_NAME", f".on[{index}]", message))
    return tuple(names)
