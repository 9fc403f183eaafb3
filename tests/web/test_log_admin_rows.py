"""The log lines' admin changelist: rows built by SysLogAdmin.rows_html, newest first always."""

import re
from datetime import UTC, datetime

import pytest

from tests.factories import log

pytestmark = pytest.mark.django_db

WHEN = datetime(2025, 3, 1, 13, 0, 5, 123456, tzinfo=UTC)


def listed(html: str) -> list[int]:
    links = re.findall(r'<th class="field-id"><a href="/admin/flows/syslog/(\d+)/change/', html)
    return [int(pk) for pk in links]


def test_the_lines_are_listed_newest_first(admin_client):
    lines = [log(f"line {i}") for i in range(3)]

    html = admin_client.get("/admin/flows/syslog/").content.decode()

    assert listed(html) == [line.pk for line in reversed(lines)]


@pytest.mark.parametrize("order", ["2", "-3", "4.1"])
def test_a_sort_in_the_query_string_is_ignored(admin_client, order):
    lines = [log(f"line {i}", level=level) for i, level in enumerate(["WARNING", "ERROR", "INFO"])]

    html = admin_client.get(f"/admin/flows/syslog/?o={order}").content.decode()

    assert listed(html) == [line.pk for line in reversed(lines)]


def test_the_column_headers_are_not_sort_links(admin_client):
    log("a line")

    html = admin_client.get("/admin/flows/syslog/").content.decode()

    assert '<th scope="col" class="column-created_at"><div class="text"><span>Created at</span>' in html
    assert "?o=" not in html


def test_a_row_shows_the_time_to_the_millisecond_and_escapes_every_value(admin_client):
    line = log("<script>x</script>", level="<b>", logger="<i>app</i>", created_at=WHEN)

    html = admin_client.get("/admin/flows/syslog/").content.decode()

    assert (
        f'<tr><th class="field-id"><a href="/admin/flows/syslog/{line.pk}/change/">{line.pk}</a></th>'
        '<td class="field-created_at nowrap">2025-03-01 13:00:05.123 UTC</td>'
        '<td class="field-level">&lt;b&gt;</td><td class="field-logger_name">&lt;i&gt;app&lt;/i&gt;</td>'
        '<td class="field-short_message">&lt;script&gt;x&lt;/script&gt;</td></tr>'
    ) in html


def test_a_rows_link_keeps_the_filter_for_the_way_back(admin_client):
    line = log("boom", level="ERROR")

    html = admin_client.get("/admin/flows/syslog/?level=ERROR").content.decode()

    assert f'href="/admin/flows/syslog/{line.pk}/change/?_changelist_filters=level%3DERROR"' in html


def test_a_long_message_is_cut_at_200_characters(admin_client):
    log("x" * 250)

    html = admin_client.get("/admin/flows/syslog/").content.decode()

    assert f'<td class="field-short_message">{"x" * 200}…</td>' in html


def test_the_changelist_takes_a_fixed_number_of_queries(admin_client, django_assert_num_queries):
    for i in range(5):
        log(f"line {i}")

    # session, user (a superuser: no permission queries), whether a row lies past the cap, the
    # bounded count (a small table only), the page.
    with django_assert_num_queries(5):
        admin_client.get("/admin/flows/syslog/")
