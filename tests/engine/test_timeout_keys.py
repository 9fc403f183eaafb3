"""Validation of the retry and timeout keys: every bad value a coded diagnostic with its path."""

import pytest

from runner.engine import RetryPolicy, validate_flow

from .helpers import PROCS, flow, only_diagnostic, problems, step


def with_keys(**keys):
    return flow(step("a") | keys)


def retry(**policy):
    return with_keys(retry={"max_attempts": 3, **policy})


def test_a_full_retry_policy_and_timeouts_are_read_into_the_definition():
    source = flow(
        step("a")
        | {
            "retry": {
                "max_attempts": 3,
                "delay_seconds": 10,
                "backoff": 2.0,
                "max_delay_seconds": 600,
                "on": ["ConnectionError", "TimeoutError"],
            },
            "timeout_seconds": 30,
        }
    ) | {"timeout_seconds": 3600}
    found, diagnostics = validate_flow(source, packages=PROCS)

    assert diagnostics == []
    assert found.timeout_seconds == 3600
    assert found.procedures[0].timeout_seconds == 30
    assert found.procedures[0].retry == RetryPolicy(3, 10.0, 2.0, 600.0, ("ConnectionError", "TimeoutError"))


def test_a_step_without_the_keys_has_no_policy():
    found, _ = validate_flow(flow(step("a")), packages=PROCS)
    assert found.timeout_seconds is None
    assert (found.procedures[0].retry, found.procedures[0].timeout_seconds) == (None, None)


def test_retry_defaults_are_a_one_second_delay_doubling_up_to_ten_minutes_for_any_exception():
    found, _ = validate_flow(retry(), packages=PROCS)
    assert found.procedures[0].retry == RetryPolicy(3, 1.0, 2.0, 600.0, None)


def test_the_default_cap_is_the_first_delay_when_that_is_longer():
    found, _ = validate_flow(retry(delay_seconds=3600), packages=PROCS)
    assert found.procedures[0].retry.max_delay_seconds == 3600


@pytest.mark.parametrize(
    ("policy", "path"),
    [
        ({"max_attempts": 0}, "procedures[0].retry.max_attempts"),
        ({"max_attempts": 101}, "procedures[0].retry.max_attempts"),
        ({"max_attempts": 2.0}, "procedures[0].retry.max_attempts"),
        ({"max_attempts": True}, "procedures[0].retry.max_attempts"),
        ({"delay_seconds": -1}, "procedures[0].retry.delay_seconds"),
        ({"delay_seconds": 86_401}, "procedures[0].retry.delay_seconds"),
        ({"delay_seconds": "10"}, "procedures[0].retry.delay_seconds"),
        ({"delay_seconds": float("nan")}, "procedures[0].retry.delay_seconds"),
        ({"backoff": 0.5}, "procedures[0].retry.backoff"),
        ({"backoff": 11}, "procedures[0].retry.backoff"),
        ({"backoff": False}, "procedures[0].retry.backoff"),
        ({"max_delay_seconds": 86_401}, "procedures[0].retry.max_delay_seconds"),
        ({"delay_seconds": 60, "max_delay_seconds": 30}, "procedures[0].retry.max_delay_seconds"),
    ],
)
def test_an_out_of_range_retry_value_is_reported_at_its_path(policy, path):
    assert problems(retry(**policy)) == [("OUT_OF_RANGE", path)]


def test_zero_delay_is_allowed():
    found, _ = validate_flow(retry(delay_seconds=0, max_delay_seconds=0), packages=PROCS)
    assert found.procedures[0].retry.delay_seconds == 0


def test_max_attempts_is_required():
    diagnostic = only_diagnostic(with_keys(retry={"delay_seconds": 1}))
    assert (diagnostic.code, diagnostic.path) == ("SCHEMA", "procedures[0].retry.max_attempts")


def test_an_unknown_key_inside_retry_is_an_error():
    diagnostic = only_diagnostic(retry(attempts=3))
    assert (diagnostic.code, diagnostic.path, diagnostic.step) == (
        "SCHEMA",
        "procedures[0].retry.attempts",
        "a",
    )
    assert diagnostic.message.startswith('unknown key "attempts": retry has max_attempts, ')


def test_retry_must_be_an_object():
    assert problems(with_keys(retry=3)) == [("SCHEMA", "procedures[0].retry")]


@pytest.mark.parametrize("on", [[], "ConnectionError", None])
def test_on_must_be_a_non_empty_list(on):
    assert problems(retry(on=on)) == [("SCHEMA", "procedures[0].retry.on")]


def test_each_bad_class_name_in_on_is_reported_at_its_index():
    assert problems(
        retry(on=["ConnectionError", "", "not a name", 3, "a..b", "http.client.HTTPException"])
    ) == [
        ("BAD_CLASS_NAME", "procedures[0].retry.on[1]"),
        ("BAD_CLASS_NAME", "procedures[0].retry.on[2]"),
        ("BAD_CLASS_NAME", "procedures[0].retry.on[3]"),
        ("BAD_CLASS_NAME", "procedures[0].retry.on[4]"),
    ]


def test_every_problem_of_a_retry_object_is_reported_at_once():
    source = with_keys(retry={"max_attempts": 0, "backoff": 20, "extra": 1})
    assert sorted(problems(source)) == [
        ("OUT_OF_RANGE", "procedures[0].retry.backoff"),
        ("OUT_OF_RANGE", "procedures[0].retry.max_attempts"),
        ("SCHEMA", "procedures[0].retry.extra"),
    ]


@pytest.mark.parametrize("timeout", [0, -5, 7 * 86_400 + 1, True, "30", None])
def test_a_bad_step_timeout_is_reported_at_its_path(timeout):
    diagnostic = only_diagnostic(with_keys(timeout_seconds=timeout))
    assert (diagnostic.code, diagnostic.path, diagnostic.step) == (
        "OUT_OF_RANGE",
        "procedures[0].timeout_seconds",
        "a",
    )
    assert diagnostic.message == "must be a number of seconds, more than 0 and at most 604,800 (7 days)"


@pytest.mark.parametrize("timeout", [0.5, 7 * 86_400])
def test_a_step_timeout_within_bounds_is_accepted(timeout):
    found, _ = validate_flow(with_keys(timeout_seconds=timeout), packages=PROCS)
    assert found.procedures[0].timeout_seconds == timeout


@pytest.mark.parametrize("timeout", [0, 7 * 86_400 + 1, False])
def test_a_bad_run_timeout_is_reported_at_its_path(timeout):
    source = flow(step("a")) | {"timeout_seconds": timeout}
    assert problems(source) == [("OUT_OF_RANGE", "timeout_seconds")]


def test_an_unknown_top_level_key_names_both_allowed_keys():
    diagnostic = only_diagnostic(flow(step("a")) | {"timeout": 5})
    assert diagnostic.message.startswith(
        'unknown key "timeout": a flow has "procedures" and optional "inputs", "timeout_seconds"'
    )
    assert diagnostic.message.endswith('did you mean "timeout_seconds"?')


def test_an_unknown_step_key_suggests_timeout_seconds():
    diagnostic = only_diagnostic(with_keys(timeout_secs=5))
    assert diagnostic.path == "procedures[0].timeout_secs"
    assert diagnostic.message.endswith('did you mean "timeout_seconds"?')


def test_a_json_text_with_the_keys_validates():
    text = '{"timeout_seconds": 60, "procedures": [{"name": "a", "mod": "Echo", "method": "echo",'
    text += ' "retry": {"max_attempts": 2, "on": ["OSError"]}, "timeout_seconds": 1.5}]}'
    found, diagnostics = validate_flow(text, packages=PROCS)
    assert diagnostics == [] and found.procedures[0].retry.on == ("OSError",)
