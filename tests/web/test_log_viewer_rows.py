"""The log viewer's rows are built in Python (flows.views.logs.rows_html), not by a template
per row: they must read exactly as the template rows of the run page do."""

from datetime import UTC, datetime, timedelta, timezone

from django.template import engines

from flows.models import SysLog
from flows.views.logs import rows_html

# The row partial the viewer used before, as templates/runs/run.html still writes its rows.
TEMPLATE_ROW = """{% load workflow %}{% for row in rows %}\
<tr class="log-row log-{{ row.level|lower }}" data-id="{{ row.id }}">
  <td class="nowrap">{{ row.created_at|ts_ms }}</td><td>{% level row.level %}</td>
  <td class="logger">{% logger row.logger_name %}</td>
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
LOGGERS = ["workflow", "workflow.run.13", "workflow.run.13.http", "workflow.run.10<b>", "<i>legacy</i>"]
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


def test_no_lines_give_no_rows():
    assert rows_html([]) == ""


def test_a_run_loggers_name_links_to_its_run():
    line = SysLog(id=1, created_at=WHEN, level="INFO", logger_name="workflow.run.13.http", message="")

    html = rows_html([line])

    assert '<a href="/runs/13/" title="the page of run 13">workflow.run.13.http</a>' in html
