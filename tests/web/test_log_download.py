"""/logs/download/: the current filtered view as a text file, streamed and bounded like the pages."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from tests.factories import log

pytestmark = pytest.mark.django_db

NOON = datetime(2025, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)


def download(client, query: str = "") -> tuple[object, list[str]]:
    response = client.get(f"/logs/download/{query}")
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    return response, text.splitlines()


def test_the_download_is_a_streamed_text_attachment(client):
    log("hello")

    response, _ = download(client)

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="workflow-logs-')
    assert response["Content-Disposition"].endswith('.txt"')


def test_each_line_is_time_level_logger_and_message_newest_first(client):
    log("first", created_at=NOON, logger="workflow.run.7")
    log("second", level="ERROR", created_at=NOON, logger="workflow.engine")

    _, lines = download(client)

    assert lines[0] == "# wf_syslog lines, newest first; times in UTC; filters: none"
    assert lines[1:] == [
        "2025-03-01 12:00:05.123 ERROR workflow.engine second",
        "2025-03-01 12:00:05.123 INFO workflow.run.7 first",
    ]


def test_times_are_in_the_zone_the_filters_were_read_in(client):
    log("noon", created_at=NOON)

    _, lines = download(client, "?tz=Europe/Paris")

    assert lines[0].startswith("# wf_syslog lines, newest first; times in Europe/Paris;")
    assert lines[1] == "2025-03-01 13:00:05.123 INFO workflow noon"


def test_the_download_applies_the_filters(client):
    log("quiet", level="INFO", logger="workflow.run.1")
    log("loud", level="ERROR", logger="workflow.run.1")
    log("other run", level="ERROR", logger="workflow.run.10")

    _, lines = download(client, "?level=ERROR&run=1")

    assert lines[0].endswith("filters: level=ERROR run=1")
    assert [line.split(" ", 4)[4] for line in lines[1:]] == ["loud"]


def test_the_download_starts_at_the_before_cursor(client):
    older, newer = log("older"), log("newer")

    _, lines = download(client, f"?before={newer.pk}")

    assert [line.split(" ", 4)[4] for line in lines[1:]] == ["older"]
    assert older.pk < newer.pk


def test_a_message_with_line_breaks_stays_on_one_line(client):
    log("ok\n2025-12-19 08:39:02.002 INFO forged\r\x1b[31m")

    _, lines = download(client)

    assert len(lines) == 2
    assert lines[1].endswith(r"ok\n2025-12-19 08:39:02.002 INFO forged\r\x1b[31m")


def test_the_download_stops_at_its_line_limit_and_says_where_to_go_on(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.DOWNLOAD_MAX_LINES", 3)
    monkeypatch.setattr("flows.views.logs.DOWNLOAD_MAX_LINES", 3)
    monkeypatch.setattr("flows.logsearch.DOWNLOAD_PAGE_SIZE", 2)
    rows = [log(f"line {i}") for i in range(5)]

    _, lines = download(client, "?level=INFO")

    assert [line.split(" ", 4)[4] for line in lines[1:4]] == ["line 4", "line 3", "line 2"]
    assert lines[4] == (
        "# Cut at 3 lines, the most one download holds. "
        f"Older lines: /logs/download/?level=INFO&before={rows[2].pk}"
    )


def test_a_filtered_download_examines_a_bounded_number_of_ids(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.TEXT_WINDOW", 10)
    monkeypatch.setattr("flows.logsearch.DOWNLOAD_MAX_SEARCHED", 20)
    needle = log("the needle")
    hay = [log(f"hay {i}") for i in range(30)]

    _, lines = download(client, "?q=needle")

    low, high = hay[-1].pk - 19, hay[-1].pk
    assert lines[1:] == [
        f"# Searched 20 ids ({low}-{high}), the most one download examines. "
        f"Older lines: /logs/download/?q=needle&before={low}"
    ]
    assert needle.pk < low


def test_a_filtered_download_goes_on_through_windows_until_the_start_of_the_log(client, monkeypatch):
    monkeypatch.setattr("flows.logsearch.TEXT_WINDOW", 10)
    needle = log("the needle", created_at=NOON)
    hay = [log(f"hay {i}") for i in range(30)]

    _, lines = download(client, "?q=needle")

    assert lines[1:] == ["2025-03-01 12:00:05.123 INFO workflow the needle"]
    assert needle.pk < hay[-1].pk - 20  # three windows back


def test_an_unfinished_download_has_no_cut_line(client):
    for i in range(3):
        log(f"line {i}")

    _, lines = download(client)

    assert not lines[-1].startswith("#")


def test_a_bad_filter_answers_400_with_the_reason(client):
    response, lines = download(client, "?run=seven")

    assert response.status_code == 400
    assert lines[0].startswith("Bad filter:")
    assert "Enter a whole number" in " ".join(lines)


# Renaming a table commits on MySQL/MariaDB: this test cannot run inside a transaction.
@pytest.mark.django_db(transaction=True)
def test_an_unreadable_log_table_answers_503_with_the_reason(client):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE wf_syslog RENAME TO wf_syslog_away")
    try:
        response, lines = download(client)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE wf_syslog_away RENAME TO wf_syslog")

    assert response.status_code == 503
    assert lines[0].startswith("The log table is unavailable: ")
    assert "wf_syslog" in lines[0]


def test_a_short_download_takes_a_fixed_number_of_queries_without_count_or_offset(
    client, django_assert_num_queries
):
    for i in range(5):
        log(f"line {i}", level="ERROR")

    # session, user, the user's and their groups' permissions (one query), MAX(id), the one page.
    with django_assert_num_queries(5) as captured:
        download(client, "?level=ERROR")

    for query in captured.captured_queries:
        assert "COUNT(" not in query["sql"].upper() and "OFFSET" not in query["sql"].upper()
