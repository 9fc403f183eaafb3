"""key=value run input reads the same from `runflow --input` and from the dashboard's run form
(of a flow that declares no inputs; tests/test_declared_inputs.py has those that do)."""

import io

import pytest
from django.core.management import call_command

from runner.models import Run
from tests.factories import EXAMPLE, client_for, make_flow, make_user

pytestmark = pytest.mark.django_db

QUOTE = "; quote the value to pass it as text"

CASES = [
    pytest.param(["name=Ann"], {"name": "Ann"}, id="text"),
    pytest.param([" name  =  Ann Lee  "], {"name": "Ann Lee"}, id="spaces-around-key-and-value"),
    pytest.param(["n = 3", "flag=true", "l=[1, 2]"], {"n": 3, "flag": True, "l": [1, 2]}, id="json-values"),
    pytest.param(["n=123456789012345678901234567890"], {"n": 123456789012345678901234567890}, id="big-int"),
    pytest.param(['x="NaN"', "eq=a=b", "e="], {"x": "NaN", "eq": "a=b", "e": ""}, id="quoted-equals-empty"),
    pytest.param(["novalue"], "'novalue' is not key=value", id="missing-equals"),
    pytest.param([" = 3"], "'= 3' is not key=value", id="empty-key"),
    pytest.param(["a=1", " a =2"], "'a' is given twice", id="duplicate-key"),
    pytest.param(["x=NaN"], f"x: NaN is not a JSON number: numbers must be finite{QUOTE}", id="nan"),
    pytest.param(
        ["n=" + "9" * 5000], f"n: a number in the JSON has more than 4300 digits{QUOTE}", id="huge-int"
    ),
]


@pytest.fixture
def flow(db):
    return make_flow("example", *EXAMPLE)


@pytest.fixture
def from_cli(settings, tmp_path):
    from runner.log import shutdown_logging

    settings.WORKFLOW_LOG_FILE = str(tmp_path / "workflow.log")

    def run(entries: list[str]) -> dict | str:
        args = [arg for entry in entries for arg in ("--input", entry)]
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            call_command("runflow", "example", "--queue", *args, stdout=stdout, stderr=stderr)
        except SystemExit as exit_:
            assert exit_.code == 2
            *problems, last = stderr.getvalue().splitlines()
            if problems:  # a value the flow's inputs refuse: one line each, as the web lists them
                return "; ".join(problem.removeprefix("  ") for problem in problems)
            assert last.startswith("runflow: cannot start: --input ")
            return last.removeprefix("runflow: cannot start: --input ")
        return Run.objects.get().input

    yield run
    shutdown_logging()


@pytest.fixture
def from_web(db):
    client = client_for(make_user("operator", "view_flow", "run_flow"))

    def run(entries: list[str]) -> dict | str:
        response = client.post("/flows/example/run/", {"input": "\r\n".join(entries)})
        if response.status_code == 302:
            return Run.objects.get().input
        assert response.status_code == 400
        if problems := response.context.get("run_problems"):
            return "; ".join(problems)
        [message] = [str(m) for m in response.context["messages"]]
        return message.removeprefix("Not started: ")

    return run


@pytest.mark.parametrize("entry_point", ["from_cli", "from_web"])
@pytest.mark.parametrize(("entries", "expected"), CASES)
def test_the_cli_and_the_web_read_key_values_alike(request, flow, entry_point, entries, expected):
    result = request.getfixturevalue(entry_point)(entries)

    assert result == expected
    if isinstance(expected, str):
        assert not Run.objects.exists()
