"""An unknown secret is a diagnostic of the one validator (CLI, editor, admin, API)."""

import json

import pytest

from flows.editing import InvalidDefinition, create_flow
from runner.validation import flow_diagnostics
from tests.factories import definition, step
from tests.secrets.conftest import VALUE
from vault import store

pytestmark = pytest.mark.django_db


def test_a_reference_to_an_unknown_secret_is_a_diagnostic(key):
    text = definition(step("s1", msg="hi"), step("s2", msg={"auth": ["x", "@_secret.NOPE"]}))

    [diagnostic] = flow_diagnostics(text)

    assert (diagnostic.code, diagnostic.path, diagnostic.step) == (
        "UNKNOWN_SECRET",
        "procedures[1].params.msg.auth[1]",
        "s2",
    )
    assert diagnostic.message == (
        '"@_secret.NOPE": no secret is named "NOPE": set the environment variable WORKFLOW_SECRET_NOPE'
        " or add NOPE on the Secrets page (/secrets/)"
    )


def test_each_reference_to_an_unknown_secret_is_listed(key):
    text = definition(step("s1", msg="@_secret.NOPE"), step("s2", msg="@_secret.NOPE", other="@_secret.ALSO"))

    paths = [(d.path, d.message.split(":")[0]) for d in flow_diagnostics(text)]

    assert paths == [
        ("procedures[0].params.msg", '"@_secret.NOPE"'),
        ("procedures[1].params.msg", '"@_secret.NOPE"'),
        ("procedures[1].params.other", '"@_secret.ALSO"'),
    ]


def test_secrets_of_the_table_and_of_the_environment_are_known(key, monkeypatch):
    store.add("DB_PASSWORD", VALUE)
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", VALUE)

    assert flow_diagnostics(definition(step("s", a="@_secret.DB_PASSWORD", b="@_secret.API_TOKEN"))) == []


def test_a_literal_at_sign_is_not_a_reference(key):
    assert flow_diagnostics(definition(step("s", msg="@@_secret.NOPE"))) == []


def test_a_flow_without_secrets_costs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert flow_diagnostics(definition(step("s", msg="hi"))) == []


def test_a_flow_naming_an_unknown_secret_cannot_be_saved(key):
    with pytest.raises(InvalidDefinition) as refused:
        create_flow("uses-secrets", json.dumps({"procedures": [step("s", msg="@_secret.NOPE")]}), user="ana")

    assert [d.code for d in refused.value.diagnostics] == ["UNKNOWN_SECRET"]
