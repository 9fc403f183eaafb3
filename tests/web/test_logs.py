"""The wf_syslog viewer: filters, keyset pages, bounded searches, live tail, no COUNT/OFFSET."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import log

pytestmark = pytest.mark.django_db


def shown(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="log-row[^"]*" data-id="(\d+)"', html)]


@pytest.fixture
def lines(db):
    return {
        level: log(f"{level.lower()} line", level=level, logger=logger)
        for level, logger in [
            ("DEBUG", "workflow.engine"),
            ("INFO", "workflow.run.7"),
            ("WARNING", "workflow.run.8"),
            ("WARN", "legacy.app"),
            ("ERROR", "workflow.run.7"),
            ("CRITICAL", "legacy.app"),
        ]
    }


def test_the_log_viewer_shows_lines_newest_first(client, lines):
    html = client.get("/logs/").content.decode()

    assert shown(html) == sorted((row.pk for row in lines.values()), reverse=True)


def test_levels_have_a_colour_class_and_their_name(client, lines):
    html = client.get("/logs/").content.decode()

    assert '<span class="level level-error">ERROR</span>' in html
    assert 'class="log-row log-critical"' in html


def test_the_minimum_level_filter_keeps_that_level_and_above(client, lines):
    html = client.get("/logs/?level=WARNING").content.decode()

    expected = {lines[name].pk for name in ("WARNING", "WARN", "ERROR", "CRITICAL")}
    assert set(shown(html)) == expected


def test_the_minimum_level_debug_shows_everything(client, lines):
    assert len(shown(client.get("/logs/?level=DEBUG").content.decode())) == 6


def test_the_logger_filter_matches_a_prefix(client, lines):
    html = client.get("/logs/?logger=workflow.run").content.decode()

    assert set(shown(html)) == {lines[n].pk for n in ("INFO", "WARNING", "ERROR")}


def test_the_text_filter_matches_part_of_the_message_ignoring_case(client, lines):
    html = client.get("/logs/?q=ERROR%20LI").content.decode()

    assert shown(html) == [lines["ERROR"].pk]


def test_filters_combine(client, lines):
    html = client.get("/logs/?level=ERROR&logger=workflow").content.decode()

    assert shown(html) == [lines["ERROR"].pk]


def test_the_time_range_filter_keeps_lines_between_from_and_to(client):
    day = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    early, middle, late = (log(f"at {h}", created_at=day + timedelta(hours=h)) for h in (0, 2, 4))

    html = client.get("/logs/?since=2025-03-01T13:00&until=2025-03-01T15:00").content.decode()

    assert shown(html) == [middle.pk]
    assert early.pk < middle.pk < late.pk


def test_the_time_range_is_read_in_the_browsers_zone(client):
    day = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    noon_utc = log("noon UTC", created_at=day)
    log("two hours later", created_at=day + timedelta(hours=2))

    # 13:00 in Paris (UTC+1 in March) is noon UTC.
    html = client.get("/logs/?since=2025-03-01T12:30&until=2025-03-01T13:30&tz=Europe/Paris").content.decode()

    assert shown(html) == [noon_utc.pk]


def test_a_time_range_with_no_lines_is_empty(client, lines):
    html = client.get("/logs/?since=2001-01-01T00:00&until=2001-01-02T00:00").content.decode()

    assert shown(html) == []
    assert 'id="no-lines"' in html


def test_a_bad_filter_value_is_reported_not_crashed(client, lines):
    response = client.get("/logs/?since=yesterday&level=LOUD")

    assert response.status_code == 200
    assert 'id="filter-errors"' in response.content.decode()


def test_pages_continue_with_a_before_cursor(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.PAGE_SIZE", 2)
    rows = [log(f"line {i}") for i in range(5)]

    first = client.get("/logs/").content.decode()
    second = client.get(f"/logs/?before={rows[3].pk}").content.decode()

    assert shown(first) == [rows[4].pk, rows[3].pk]
    assert f"?before={rows[3].pk}" in first
    assert shown(second) == [rows[2].pk, rows[1].pk]


def test_the_older_link_keeps_the_filters(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.PAGE_SIZE", 1)
    log("x one", level="ERROR")
    newest = log("x two", level="ERROR")

    html = client.get("/logs/?level=ERROR&q=x").content.decode()

    assert f'href="?level=ERROR&amp;q=x&amp;before={newest.pk}"' in html


def test_a_rare_match_is_searched_in_bounded_windows_with_a_continue_link(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.TEXT_WINDOW", 10)
    needle = log("the needle")
    hay = [log(f"hay {i}") for i in range(25)]
    top = hay[-1].pk + 1

    html = client.get("/logs/?q=needle").content.decode()

    assert shown(html) == []
    assert "Searched 10 lines" in html
    assert f'href="?q=needle&amp;before={top - 10}"' in html
    assert 'id="continue-search"' in html
    assert needle.pk < top - 20


def test_continuing_a_search_finds_the_rare_line_and_ends(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.TEXT_WINDOW", 10)
    needle = log("the needle")
    hay = [log(f"hay {i}") for i in range(25)]
    before = hay[-1].pk + 1

    pages = []
    while before is not None and len(pages) < 10:
        html = client.get(f"/logs/?q=needle&before={before}").content.decode()
        pages.append(shown(html))
        found = re.search(r'id="continue-search"', html) and re.search(r"before=(\d+)\" id=\"continue", html)
        before = int(found.group(1)) if found else None

    assert pages[-1] == [needle.pk]
    assert len(pages) == 3


def test_a_text_search_examines_fewer_ids_than_the_other_filters(client, monkeypatch):
    # A text filter reads every row of its window; the level filter reads an index.
    monkeypatch.setattr("flows.logsearch.WINDOW", 10)
    monkeypatch.setattr("flows.logsearch.TEXT_WINDOW", 5)
    for i in range(25):
        log(f"hay {i}")

    assert "Searched 10 lines" in client.get("/logs/?level=ERROR").content.decode()
    assert "Searched 5 lines" in client.get("/logs/?level=ERROR&q=needle").content.decode()


def test_an_unfiltered_page_is_not_bounded_by_the_window(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.WINDOW", 2)
    rows = [log(f"line {i}") for i in range(5)]

    assert len(shown(client.get("/logs/").content.decode())) == len(rows)


def test_long_messages_are_folded(client):
    log("first line\nsecond line")
    log("x" * 400)

    html = client.get("/logs/").content.decode()

    assert html.count('<details class="fold">') == 2


def test_live_tail_mode_polls_for_lines_after_the_newest_shown(client, lines):
    newest = max(row.pk for row in lines.values())

    html = client.get("/logs/?tail=1&level=INFO").content.decode()

    assert f'hx-get="/logs/tail/?level=INFO&amp;after={newest}"' in html
    assert 'hx-trigger="every 2s"' in html
    assert 'hx-swap="outerHTML"' in html


def test_the_tail_returns_only_newer_lines_and_the_next_cursor(client, lines):
    newest = max(row.pk for row in lines.values())
    fresh = log("fresh line")

    html = client.get(f"/logs/tail/?after={newest}", HTTP_HX_REQUEST="true").content.decode()

    assert shown(html) == [fresh.pk]
    assert f"after={fresh.pk}" in html
    assert html.startswith('<tr id="log-tail"')
    assert "<html" not in html


def test_the_tail_applies_the_filters(client, lines):
    newest = max(row.pk for row in lines.values())
    log("quiet", level="INFO")
    loud = log("loud", level="ERROR")

    html = client.get(f"/logs/tail/?after={newest}&level=ERROR").content.decode()

    assert shown(html) == [loud.pk]


def test_the_tail_moves_its_cursor_past_lines_that_do_not_match(client, lines):
    newest = max(row.pk for row in lines.values())
    skipped = log("quiet", level="INFO")

    html = client.get(f"/logs/tail/?after={newest}&level=ERROR").content.decode()

    assert shown(html) == []
    assert f"after={skipped.pk}" in html


def test_the_tail_with_nothing_new_keeps_its_cursor(client, lines):
    newest = max(row.pk for row in lines.values())

    html = client.get(f"/logs/tail/?after={newest}").content.decode()

    assert shown(html) == []
    assert f"after={newest}" in html


def test_the_tail_shows_at_most_its_limit_and_says_lines_were_left_out(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.TAIL_MAX", 2)
    start = log("start")
    rows = [log(f"burst {i}") for i in range(4)]

    html = client.get(f"/logs/tail/?after={start.pk}").content.decode()

    assert shown(html) == [rows[3].pk, rows[2].pk]
    assert "more new lines arrived" in html


def test_the_tail_shows_a_line_beyond_a_gap_in_the_ids_at_once(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.WINDOW", 10)
    start = log("start")
    beyond = log("after many deleted lines", pk=start.pk + 1000)

    html = client.get(f"/logs/tail/?after={start.pk}").content.decode()

    assert shown(html) == [beyond.pk]
    assert f"after={beyond.pk}" in html


def test_the_tail_needs_an_after_cursor(client):
    assert client.get("/logs/tail/").status_code == 400


def test_the_log_viewer_has_an_empty_state(client):
    assert "No log lines." in client.get("/logs/").content.decode()


def assert_no_count_or_offset(captured) -> None:
    for query in captured.captured_queries:
        sql = query["sql"].upper()
        assert "COUNT(" not in sql
        assert "OFFSET" not in sql


def test_the_first_page_takes_a_fixed_number_of_queries(client, lines, django_assert_num_queries):
    # session, user, the user's and their groups' permissions (one query), MAX(id), the page.
    with django_assert_num_queries(5) as captured:
        client.get("/logs/")

    assert_no_count_or_offset(captured)


def test_a_filtered_deep_page_takes_a_fixed_number_of_queries(
    client, lines, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr("flows.logsearch.TEXT_WINDOW", 50)
    rows = [log(f"line {i}", level="ERROR") for i in range(120)]

    # session, user, the user's and their groups' permissions (one query), the page, and MIN(id) to
    # know whether to offer "continue searching" (the window was not full).
    with django_assert_num_queries(5) as captured:
        client.get(f"/logs/?level=ERROR&logger=workflow&q=line&before={rows[100].pk}")

    assert_no_count_or_offset(captured)


def test_the_tail_takes_a_fixed_number_of_queries(client, lines, django_assert_num_queries):
    # session, user, permissions (1), the first id after the cursor, MAX(id), the lines.
    with django_assert_num_queries(6) as captured:
        client.get("/logs/tail/?after=0&level=ERROR")

    assert_no_count_or_offset(captured)


def test_the_run_filter_shows_that_run_and_its_children_but_not_runs_with_longer_ids(client):
    mine = log("mine", logger="workflow.run.1")
    child = log("child", logger="workflow.run.1.http")
    log("other", logger="workflow.run.10")

    response = client.get("/logs/?run=1")

    ids = [row.id for row in response.context["page"].rows]
    assert ids == [child.pk, mine.pk]


def test_a_from_date_past_the_year_9999_in_utc_is_refused_with_a_message(client, lines):
    # 23:59 on 31/12/9999 in Pago Pago (UTC-11) is in the year 10000 in UTC.
    response = client.get("/logs/?since=9999-12-31T23:59&tz=Pacific/Pago_Pago")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-errors"' in html
    assert "between 0001-01-02 and 9999-12-30" in html


def test_a_to_date_past_the_year_9999_in_utc_is_refused_with_a_message(client, lines):
    response = client.get("/logs/?until=9999-12-31T23:00&tz=America/New_York")

    assert response.status_code == 200
    assert "between 0001-01-02 and 9999-12-30" in response.content.decode()


def test_a_date_before_the_year_1_in_utc_is_refused_with_a_message(client, lines):
    # Midnight on 1/1/1 in Tokyo (UTC+9) is in the year 0 in UTC.
    response = client.get("/logs/?since=0001-01-01T00:00&tz=Asia/Tokyo")

    assert response.status_code == 200
    assert "between 0001-01-02 and 9999-12-30" in response.content.decode()


def test_the_tail_refuses_a_date_out_of_range(client, lines):
    response = client.get("/logs/tail/?after=0&since=9999-12-31T23:59&tz=Pacific/Pago_Pago")

    assert response.status_code == 400


def test_the_widest_date_range_allowed_is_searched(client, lines):
    response = client.get("/logs/?since=0001-01-02T00:00&until=9999-12-30T23:59&tz=Pacific/Kiritimati")

    assert response.status_code == 200
    assert 'id="filter-errors"' not in response.content.decode()
    assert len(shown(response.content.decode())) == len(lines)


def test_a_run_loggers_name_links_to_its_run_page(client):
    log("step started", logger="workflow.run.13")

    html = client.get("/logs/").content.decode()

    assert '<a href="/runs/13/" title="the page of run 13">workflow.run.13</a>' in html


def test_a_run_loggers_child_links_to_the_run_page(client):
    log("GET /api", logger="workflow.run.13.http")

    html = client.get("/logs/").content.decode()

    assert '<a href="/runs/13/" title="the page of run 13">workflow.run.13.http</a>' in html


@pytest.mark.parametrize(
    "name", ["workflow.run", "workflow.runner.13", "workflow.run.0", "workflow.run.13x", "app.workflow.run.1"]
)
def test_a_logger_that_is_no_run_logger_is_not_a_link(client, name):
    log("not a run", logger=name)

    html = client.get("/logs/").content.decode()

    assert f'<td class="logger">{name}</td>' in html
    assert 'title="the page of run' not in html


def test_log_times_show_milliseconds_and_their_zone(client):
    log("precise", created_at=datetime(2025, 3, 1, 12, 0, 5, 123456, tzinfo=UTC))

    html = client.get("/logs/").content.decode()

    assert (
        '<time class="ts-ms" datetime="2025-03-01T12:00:05.123Z" title="2025-03-01 12:00:05.123 UTC">' in html
    )
    assert "2025-03-01 12:00:05.123 UTC</time>" in html


def test_the_run_filter_is_a_visible_field_of_the_form(client):
    html = client.get("/logs/?run=7").content.decode()

    assert re.search(r'<input type="number" name="run" value="7"[^>]*id="id_run"', html)
    assert "“Run” shows one run&#x27;s own lines (its logger and its children)." in html


def test_the_logger_filter_says_it_is_a_prefix(client):
    html = client.get("/logs/").content.decode()

    assert 'aria-describedby="id_logger_helptext"' in html
    assert "“Logger starts with” is a prefix: workflow.run.1 also matches runs 10-19." in html


def test_a_run_filter_that_is_not_a_number_is_refused_with_a_message(client, lines):
    response = client.get("/logs/?run=seven")

    assert response.status_code == 200
    assert 'id="filter-errors"' in response.content.decode()
    assert shown(response.content.decode()) == []


def test_the_download_link_carries_the_current_filters(client, lines):
    html = client.get("/logs/?level=ERROR&q=line&tail=1&before=99").content.decode()

    assert 'href="/logs/download/?level=ERROR&amp;q=line&amp;before=99" id="log-download"' in html


def test_a_logger_name_with_markup_is_escaped(client):
    log("x", logger="<b>bold</b>")

    html = client.get("/logs/").content.decode()

    assert '<td class="logger">&lt;b&gt;bold&lt;/b&gt;</td>' in html
