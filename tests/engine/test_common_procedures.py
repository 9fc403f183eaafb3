import pytest

from runner.engine import ProcedureFailed, run_flow, validate_flow

from .helpers import new_logger


def fill(template, values):
    source = {
        "procedures": [
            {"name": "who", "mod": "common.Kt", "method": "prt", "params": {"msg": "Ann"}},
            {
                "name": "text",
                "mod": "common.Text",
                "method": "fill",
                "params": {"template": template, "values": values},
            },
        ]
    }
    found, diagnostics = validate_flow(source)
    assert diagnostics == []
    return run_flow(found, logger=new_logger())["text"]["text"]


def test_text_fill_puts_referenced_values_into_a_template():
    assert fill("Hello ${name}, you owe $$5", {"name": "@who.msg"}) == "Hello Ann, you owe $5"


def test_text_fill_fails_the_step_on_a_missing_value():
    with pytest.raises(ProcedureFailed, match="KeyError"):
        fill("Hello $nobody", {"name": "@who.msg"})
