"""The rows of the log viewer and of the run page are built in Python (flows.views.logs), not
by a template per row: they must read exactly as the template rows they replaced."""

from datetime import UTC, datetime, timedelta, timezone

from django.template import engines

from flows.models import SysLog
from flows.views.logs import rows_html, run_rows_html

# The row partials of the viewer and of templates/runs/run.html before.
TEMPLATE_ROW = """{% load workflow %}{% for row in rows %}\
<tr class="log-row log-{{ row.level|lower }}" data-id="{{ row.id }}">
  <td class="nowrap">{{ row.created_at|ts_ms }}</td><td>{% level row.level %}</td>
  <td class="logger">{% logger row.logger_name %}</td>
  <td class="msg">{% include "logs/_message.html" %}</td>
</tr>{% endfor %}"""
TEMPLATE_RUN_ROW = """{% load workflow %}{% for row in rows %}\
<tr class="log-row log-{{ row.level|lower }}" data-id="{{ row.id }}">
  <td class="nowrap">{{ row.created_at|ts_ms }}</td><td>{% level row.level %}</td>
  <td class="log-step" data-step="{{ row.step }}"\
{% if row.step %} title="written by step {{ row.step }}"{% endif %}>{{ row.step }}</td>
  <td class="msg">{% include "logs/_message.html" %}</td>
</tr>{% endfor %}"""

WHEN = datetime(2025, 3, 1, 13, 0, 5, 123456, tzinfo=UTC)
MESSAGES = [
    "plain",
    "<script>alert('x')</script> & \"quotes\"",
    "two\nlines",
    "long " * 100,
    "e\u0301" * 200 + "x" * 200,  # combining accents do not count towards the 160 shown
    "",
]
LOGGERS = [
    "workflow",
    "workflow.run.13",
    "workflow.run.13.http",
    "workflow.run.10<b>",
    "<i>legacy</i>",
    "workflow.run.987.x",
]
LEVELS = ["INFO", "ERROR", "WARN", "<b>odd</b>"]


def lines() -> list[SysLog]:
    rows = []
    for n, message in enumerate(MESSAGES * 2):
        when = WHEN + timedelta(milliseconds=n) if n % 2 else WHEN.astimezone(timezone(timedelta(hours=-11)))
        rows.append(
            SysLog(
                id=1000 + n,
                created_at=when,
                level=LEVELS[n % len(LEVELS)],
                logger_name=LOGGERS[n % len(LOGGERS)],
                message=message,
            )
        )
    return rows


def test_the_rows_read_as_the_template_rows_of_the_run_page_do():
    rows = lines()

    expected = engines["django"].from_string(TEMPLATE_ROW).render({"rows": rows})

    assert rows_html(rows) == expected


def test_the_run_page_rows_read_as_its_template_rows_did():
    rows = lines()
    # The run's own lines, its steps' (one with markup in its name) and other loggers'.
    for row, name in zip(
        rows, ["workflow.run.7", "workflow.run.7.http", 'workflow.run.7.<b>"s', "workflow"] * 3, strict=True
    ):
        row.logger_name = name
        # What the view set for the template: the logger's name below the run's.
        row.step = name.removeprefix("workflow.run.7.") if name.startswith("workflow.run.7.") else ""

    expected = engines["django"].from_string(TEMPLATE_RUN_ROW).render({"rows": rows})

    assert run_rows_html(rows, 7) == expected
    assert 'data-step="http" title="written by step http">http</td>' in expected


def test_no_lines_give_no_rows():
    assert rows_html([]) == ""
    assert run_rows_html([], 7) == ""


def test_a_run_loggers_name_links_to_its_run():
    line = SysLog(id=1, created_at=WHEN, level="INFO", logger_name="workflow.run.13.http", message="")

    html = rows_html([line])

    assert '<a href="/runs/13/" title="the page of run 13">workflow.run.13.http</a>' in html
