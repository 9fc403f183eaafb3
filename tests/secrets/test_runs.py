"""Real runs (services.create_run + execute_run, the steps in a forked child) that use
secrets: resolved when the step runs, and masked on every surface that stores text."""

import json

import pytest
from django.test import Client
from django.test.utils import override_settings

from flows.models import Flow, SysLog
from runner import masking, services
from runner.log import run_logger_name
from runner.masking import MASK
from runner.models import Run
from tests.factories import make_user
from tests.secrets.conftest import VALUE, new_key
from vault import store

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("secret_procedures", "log_file"),
]


def secretive(name: str, method: str, **params) -> dict:
    return {"name": name, "mod": "Secretive", "method": method, "params": params}


def run_of(*steps: dict) -> Run:
    flow = Flow.objects.create(flow_name="uses-secrets", flow_json=json.dumps({"procedures": list(steps)}))
    run = services.create_run(flow, input={}, trigger="test", triggered_by="t")
    return services.execute_run(run.pk)


def log_rows(run: Run) -> list[str]:
    return list(SysLog.objects.of_logger_tree(run_logger_name(run.pk)).values_list("message", flat=True))


@pytest.fixture
def table_secret(key):
    store.add("DB_PASSWORD", VALUE)


@pytest.fixture
def using_it(table_secret) -> Run:
    return run_of(secretive("login", "use", password="@_secret.DB_PASSWORD"), secretive("after", "echo", x=1))


@pytest.fixture
def failing(table_secret) -> Run:
    return run_of(secretive("login", "fail", password="@_secret.DB_PASSWORD"))


def test_a_step_gets_the_secret_s_value(using_it):
    # What the procedure received is masked in its stored result, so ask the log line it wrote.
    assert using_it.status == "succeeded", using_it.error
    assert any(line == f"connecting with password {MASK}" for line in log_rows(using_it))


def test_wf_syslog_rows_hold_the_mask_not_the_value(failing):
    rows = log_rows(failing)

    assert not [row for row in rows if VALUE in row]
    assert any(f"could not log in with {MASK}" in row for row in rows)
    # The traceback logged with the line: the exception's message is masked too.
    assert any(f"ConnectionError: the server refused '{MASK}'" in row for row in rows)


def test_the_log_file_holds_the_mask_not_the_value(failing, log_file):
    text = log_file.read_text()

    assert VALUE not in text
    assert f"could not log in with {MASK}" in text
    assert f"ConnectionError: the server refused '{MASK}'" in text


def test_the_console_holds_the_mask_not_the_value(table_secret, capfd):
    # The log lines on stderr, and what the procedure printed to stdout and stderr itself.
    run = run_of(secretive("login", "use", password="@_secret.DB_PASSWORD"))

    out, err = capfd.readouterr()
    assert run.status == "succeeded"
    assert VALUE not in out + err
    assert f"stdout: {MASK}" in out
    assert f"stderr: {MASK}" in err
    assert f"connecting with password {MASK}" in err


def test_captured_output_holds_the_mask_not_the_value(table_secret, capsys):
    # When the parent's stdout is no file (runflow called in-process), the child's output
    # is sent to the parent and written there.
    run = run_of(secretive("login", "use", password="@_secret.DB_PASSWORD"))

    out, err = capsys.readouterr()
    assert run.status == "succeeded"
    assert VALUE not in out + err
    assert f"stdout: {MASK}" in out


def test_the_worker_never_holds_a_value(using_it):
    # Resolved in the child that ran the step: this process (the worker) revealed nothing.
    assert not masking.revealed


def test_a_step_result_is_stored_masked(using_it):
    assert using_it.context["login"] == {"seen": MASK, "nested": {MASK: ["x", f"pre-{MASK}-post"]}}
    # Not what the step returned: a resumed run will not reuse it as if it were.
    assert using_it.steps.get(name="login").result_exact is False
    assert using_it.steps.get(name="after").result_exact is True


def test_the_stored_context_has_no_secrets(using_it):
    assert "_secret" not in using_it.context
    assert VALUE not in json.dumps(using_it.context)


def test_a_failing_step_s_error_and_traceback_are_masked(failing):
    step = failing.steps.get(name="login")

    assert failing.status == "failed"
    assert failing.error == f"login (Secretive.fail) failed: RuntimeError: login failed for password {MASK}"
    assert f"RuntimeError: login failed for password {MASK}" in failing.traceback
    assert VALUE not in failing.traceback + failing.error + step.error


def test_the_run_page_shows_the_mask_not_the_value(failing):
    client = Client()
    client.force_login(make_user("viewer", "view_flow"))

    html = client.get(f"/runs/{failing.pk}/").content.decode()
    lines = client.get(f"/runs/{failing.pk}/logs/?after=0").content.decode()

    assert VALUE not in html + lines
    assert MASK in html
    assert f"could not log in with {MASK}" in lines


def test_a_secret_from_the_environment_is_resolved_and_masked(monkeypatch):
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", VALUE)

    run = run_of(secretive("call", "echo", token="@_secret.API_TOKEN"))

    assert run.status == "succeeded", run.error
    assert run.context["call"] == {"token": MASK}


def test_a_procedure_may_read_the_secrets_from_its_context(monkeypatch):
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", VALUE)

    run = run_of(secretive("look", "peek", secret="API_TOKEN"), secretive("miss", "peek", secret="NOPE"))

    assert (run.context["look"], run.context["miss"]) == (
        {"has": True, "value": MASK},
        {"has": False, "value": "none"},
    )


def test_an_unknown_secret_fails_its_step_saying_where_secrets_come_from(key):
    run = run_of(secretive("first", "echo", x=1), secretive("call", "echo", token="@_secret.NOPE"))

    assert (run.status, run.failed_step) == ("failed", "call")
    assert run.error == (
        'call: "@_secret.NOPE": no secret is named "NOPE": set the environment variable'
        " WORKFLOW_SECRET_NOPE or add NOPE on the Secrets page (/secrets/)"
    )
    assert [(s.name, s.status) for s in run.steps.order_by("index")] == [
        ("first", "succeeded"),
        ("call", "failed"),
    ]


def test_a_secret_the_key_cannot_open_fails_its_step_clearly(table_secret):
    with override_settings(WORKFLOW_SECRETS_KEY=new_key()):
        run = run_of(secretive("login", "use", password="@_secret.DB_PASSWORD"))

    assert (run.status, run.failed_step) == ("failed", "login")
    assert run.error.startswith(
        'login: "@_secret.DB_PASSWORD": secret DB_PASSWORD cannot be decrypted with WORKFLOW_SECRETS_KEY: '
    )


def test_without_a_key_a_table_secret_fails_its_step_clearly(table_secret):
    with override_settings(WORKFLOW_SECRETS_KEY=""):
        run = run_of(secretive("login", "use", password="@_secret.DB_PASSWORD"))

    assert run.status == "failed"
    assert (
        "secret DB_PASSWORD cannot be decrypted with WORKFLOW_SECRETS_KEY: WORKFLOW_SECRETS_KEY is not set"
        in (run.error)
    )


def test_a_preview_cut_through_a_value_masks_its_head(table_secret):
    from runner.jsonsafe import PREVIEW_CHARS

    at = PREVIEW_CHARS - len(VALUE) // 2  # the preview ends halfway through the value
    run = run_of(secretive("login", "big", password="@_secret.DB_PASSWORD", at=at))

    preview = run.context["login"]["preview"]
    assert run.status == "succeeded", run.error
    assert VALUE[: len(VALUE) // 2] not in preview
    assert preview.endswith(f'"seen": "{MASK}')
