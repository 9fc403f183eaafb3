"""Schedules on the dashboard: the flow page's section, the live preview, /schedules/ with its
ledger, the overview's next due time and the run page naming its schedule."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from flows.models import Flow
from schedules.editing import create, pause
from schedules.models import Schedule, Tick
from tests.factories import EXAMPLE_JSON, make_run

pytestmark = pytest.mark.django_db

# From any date, the next five Sundays of March and October at 02:30 include the last one of
# March or of October: the day Europe/Berlin's clocks change.
SUNDAYS = "30 2 * 3,10 0"
OCTOBER_SUNDAYS = "30 2 * 10 0"


def schedule_of(flow: Flow, cron_text: str = "30 2 * * *", tz: str = "Europe/Berlin", **fields) -> Schedule:
    return create(flow, cron_text=cron_text, tz_name=tz, **fields)


def tick(schedule: Schedule, outcome: str = "fired", hours_ago: int = 1, **fields) -> Tick:
    due = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago)
    return Tick.objects.create(
        schedule_id=schedule.pk, flow_id=schedule.flow_id, due=due, outcome=outcome, **fields
    )


def form_data(**fields) -> dict:
    data = {
        "cron": "30 2 * * *",
        "timezone": "Europe/Berlin",
        "input": "",
        "overlap": "allow",
        "catch_up": "skip",
        "catch_up_limit": "10",
        "note": "",
        "deadline": "",
    }
    return {**data, **fields}


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:]


# The flow page


def test_the_flow_page_lists_each_schedule_with_its_next_five_due_times_in_its_zone(client, flow):
    schedule = schedule_of(flow, SUNDAYS, note="weekly import")

    html = section(client.get("/flows/example/").content.decode(), f"schedule-{schedule.pk}")

    assert '<code class="cron">30 2 * 3,10 0</code> <span class="zone">Europe/Berlin</span>' in html
    assert "● enabled" in html and "overlap: allow · catch-up: skip" in html
    assert "weekly import" in html
    times = re.findall(r'<time datetime="([^"]+)"', html[: html.index("</ol>")])
    assert len(times) == 5
    assert all(t.endswith(("+01:00", "+02:00")) for t in times)
    assert "does not exist in Europe/Berlin (clocks go forward), runs at 03:00" in html


def test_the_flow_page_shows_a_schedules_last_tick_and_its_run(client, flow):
    schedule = schedule_of(flow)
    run = make_run(trigger="schedule", schedule_id=schedule.pk)
    tick(schedule, "missed", hours_ago=30)
    tick(schedule, "fired", hours_ago=2, run_id=run.pk)

    html = section(client.get("/flows/example/").content.decode(), f"schedule-{schedule.pk}")

    assert 'data-outcome="fired"' in html and 'data-outcome="missed"' not in html
    assert f'href="/runs/{run.pk}/" class="tick-run"' in html


def test_a_paused_schedule_shows_paused_and_no_due_times(client, flow):
    schedule = pause(schedule_of(flow))

    html = section(client.get("/flows/example/").content.decode(), f"schedule-{schedule.pk}")

    assert "○ paused" in html
    assert 'class="plain due-times"' not in html.split("</li>")[0]
    assert f'id="resume-schedule-{schedule.pk}"' in html


def test_a_flow_without_schedules_says_so_and_offers_the_add_form(client, flow):
    response = client.get("/flows/example/")

    assertContains(response, 'id="no-schedules"')
    assertContains(response, 'action="/flows/example/schedules/add/"')
    assertContains(response, 'hx-get="/schedules/preview/" hx-trigger="input changed delay:300ms"')
    assertContains(response, '<datalist id="time-zones"><option value="UTC"><option value="Africa/Abidjan">')


def test_a_user_without_change_sees_the_schedules_but_no_form_and_no_buttons(flow, lacking):
    schedule = schedule_of(flow)

    response = lacking("change_flow").get("/flows/example/")

    assertContains(response, f'id="schedule-{schedule.pk}"')
    assertNotContains(response, 'id="schedule-form"')
    assertNotContains(response, f'id="pause-schedule-{schedule.pk}"')
    assertNotContains(response, f'id="remove-schedule-{schedule.pk}"')


def test_a_user_without_change_cannot_add_edit_pause_or_remove(flow, lacking):
    schedule = schedule_of(flow)
    client = lacking("change_flow")

    responses = [
        client.post("/flows/example/schedules/add/", form_data()),
        client.post(f"/schedules/{schedule.pk}/edit/", form_data(cron="@hourly")),
        client.post(f"/schedules/{schedule.pk}/pause/"),
        client.post(f"/schedules/{schedule.pk}/remove/"),
    ]

    assert [r.status_code for r in responses] == [403] * 4
    assert list(Schedule.objects.values_list("cron", "enabled")) == [("30 2 * * *", True)]


def test_removing_asks_for_confirmation(client, flow):
    schedule = schedule_of(flow)

    response = client.get("/flows/example/")

    assertContains(
        response,
        f'data-confirm="Remove schedule {schedule.pk} (30 2 * * * Europe/Berlin)? Its ledger rows are kept."',
    )


def test_html_in_a_note_is_shown_as_text(client, flow):
    schedule_of(flow, note='<script>alert("x")</script>')

    for path in ("/flows/example/", "/schedules/"):
        response = client.get(path)

        assertNotContains(response, '<script>alert("x")</script>')
        assertContains(response, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")


# Add, edit, pause, resume, remove


def test_adding_a_schedule_stores_it_and_goes_back_to_it_on_the_flow_page(client, flow, operator):
    response = client.post(
        "/flows/example/schedules/add/",
        form_data(
            input="name=Ann\ncount=3", overlap="skip_if_running", catch_up="all", catch_up_limit="4", note="n"
        ),
    )

    schedule = Schedule.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/flows/example/#schedule-{schedule.pk}"
    assert (schedule.flow_id, schedule.cron, schedule.timezone, schedule.input) == (
        flow.pk,
        "30 2 * * *",
        "Europe/Berlin",
        {"name": "Ann", "count": 3},
    )
    assert (schedule.overlap, schedule.catch_up, schedule.catch_up_limit, schedule.note) == (
        "skip_if_running",
        "all",
        4,
        "n",
    )
    assert schedule.enabled and schedule.next_due > timezone.now()
    assert schedule.created_by == operator.username
    page = client.get(response["Location"])
    assertContains(page, f"Schedule {schedule.pk} added: next due ")


def test_a_deadline_is_stored_shown_on_the_flow_page_and_kept_by_the_edit_form(client, flow):
    client.post("/flows/example/schedules/add/", form_data(deadline="06:30"))

    schedule = Schedule.objects.get()
    page = client.get("/flows/example/")
    edit = client.get(f"/schedules/{schedule.pk}/edit/")

    assert schedule.deadline.strftime("%H:%M") == "06:30"
    assertContains(page, "deadline: a success by 06:30 each day")
    assertContains(edit, 'name="deadline" value="06:30"')


def test_the_zone_defaults_to_the_sites_time_zone(client, flow, settings):
    settings.TIME_ZONE = "America/New_York"

    page = client.get("/flows/example/")
    client.post("/flows/example/schedules/add/", form_data(timezone=""))

    assertContains(page, 'name="timezone" value="America/New_York"')
    # An empty zone is a required field left out: refused, not guessed.
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cron", "61 * * * *", "invalid cron expression &#x27;61 * * * *&#x27;"),
        ("cron", "* * *", "a cron expression has five fields"),
        ("cron", "@reboot", "@reboot is not a schedule"),
        ("timezone", "Mars/Olympus", "unknown time zone &#x27;Mars/Olympus&#x27;"),
        ("input", "name Ann", "name Ann"),
        ("input", '{"a": NaN}', "The input cannot be used"),
        ("input", "[1, 2]", "The input must be a JSON object"),
        ("catch_up_limit", "0", "greater than or equal to 1"),
        ("catch_up", "sometimes", "Select a valid choice"),
        ("deadline", "6am", "Enter a valid time"),
    ],
)
def test_a_bad_field_is_refused_with_its_message_and_every_field_kept(client, flow, field, value, message):
    data = form_data(note="keep me", **{field: value})

    response = client.post("/flows/example/schedules/add/", data)

    assert response.status_code == 400
    assertContains(response, message, status_code=400)
    assertContains(response, 'value="keep me"', status_code=400)
    assert Schedule.objects.count() == 0


def test_adding_to_a_deleted_flow_is_refused_with_the_reason(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    response = client.post("/flows/example/schedules/add/", form_data())

    assertContains(response, "flow &#x27;example&#x27; is deleted", status_code=400)
    assert Schedule.objects.count() == 0


def test_the_edit_page_holds_the_schedules_values_and_its_preview(client, flow):
    schedule = schedule_of(flow, SUNDAYS, input={"name": "Ann"}, note="nightly", catch_up="once")

    response = client.get(f"/schedules/{schedule.pk}/edit/")

    assertContains(response, 'name="cron" value="30 2 * 3,10 0"')
    assertContains(response, 'name="timezone" value="Europe/Berlin"')
    assertContains(response, "&quot;name&quot;: &quot;Ann&quot;")
    assertContains(response, '<option value="once" selected>')
    assertContains(response, 'id="preview-times"')
    assertContains(response, "does not exist in Europe/Berlin")


def test_editing_changes_the_schedule_and_its_next_due_time(client, flow):
    schedule = schedule_of(flow)

    response = client.post(
        f"/schedules/{schedule.pk}/edit/", form_data(cron="15 * * * *", timezone="UTC", note="hourly")
    )

    schedule.refresh_from_db()
    assert response.status_code == 303
    assert response["Location"] == f"/flows/example/#schedule-{schedule.pk}"
    assert (schedule.cron, schedule.timezone, schedule.note) == ("15 * * * *", "UTC", "hourly")
    assert schedule.next_due.astimezone(UTC).minute == 15


def test_a_bad_edit_is_refused_and_the_schedule_is_unchanged(client, flow):
    schedule = schedule_of(flow)

    response = client.post(f"/schedules/{schedule.pk}/edit/", form_data(cron="99 * * * *", note="typed"))

    assertContains(response, "invalid cron expression", status_code=400)
    assertContains(response, 'value="99 * * * *"', status_code=400)
    assertContains(response, 'value="typed"', status_code=400)
    assert Schedule.objects.get().cron == "30 2 * * *"


def test_pausing_and_resuming(client, flow):
    schedule = schedule_of(flow)

    paused = client.post(f"/schedules/{schedule.pk}/pause/")
    schedule.refresh_from_db()
    assert paused.status_code == 303
    assert (schedule.enabled, schedule.next_due) == (False, None)

    resumed = client.post(f"/schedules/{schedule.pk}/resume/")
    schedule.refresh_from_db()
    assert resumed["Location"] == f"/flows/example/#schedule-{schedule.pk}"
    assert schedule.enabled and schedule.next_due > timezone.now()


def test_removing_keeps_the_ledger_rows(client, flow):
    schedule = schedule_of(flow)
    tick(schedule, "missed")

    response = client.post(f"/schedules/{schedule.pk}/remove/")

    assert response["Location"] == "/flows/example/#schedules"
    assert Schedule.objects.count() == 0
    assert Tick.objects.count() == 1
    ledger = client.get("/schedules/")
    assertContains(ledger, f'{schedule.pk} <span class="muted">(removed)</span>')


def test_an_unknown_schedule_is_a_404(client, flow):
    assert client.post("/schedules/999/pause/").status_code == 404
    assert client.get("/schedules/999/edit/").status_code == 404


def test_the_actions_refuse_get(client, flow):
    schedule = schedule_of(flow)

    for action in ("pause", "resume", "remove"):
        assert client.get(f"/schedules/{schedule.pk}/{action}/").status_code == 405
    assert client.get("/flows/example/schedules/add/").status_code == 405


# The live preview


def preview(client, cron_text: str, tz: str = "Europe/Berlin", **headers):
    return client.get("/schedules/preview/", {"cron": cron_text, "timezone": tz}, **headers)


def test_the_preview_lists_the_next_five_due_times_with_the_spring_gap_in_words(client):
    response = preview(client, SUNDAYS, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.count("<li>") == 5
    assert "The next 5 due times in Europe/Berlin" in html
    assert re.search(
        r"\d+ Mar: 02:30 does not exist in Europe/Berlin \(clocks go forward\), runs at 03:00", html
    )


def test_the_preview_says_when_a_time_happens_twice(client):
    response = preview(client, OCTOBER_SUNDAYS, HTTP_HX_REQUEST="true")

    assertContains(
        response, "02:30 happens twice in Europe/Berlin (clocks go back), runs once, at the first (CEST)"
    )


@pytest.mark.parametrize(
    ("cron_text", "tz", "message"),
    [
        ("61 * * * *", "UTC", "invalid cron expression"),
        ("* * * *", "UTC", "a cron expression has five fields"),
        ("@often", "UTC", "unknown macro"),
        ("0 3 * * *", "Nowhere/Town", "unknown time zone"),
        ("0 3 * * *", "../../etc/passwd", "unknown time zone"),
        ("0 " * 400, "UTC", "longer than 200 characters"),
        ("0 3 * * *", "\x00", "unknown time zone"),
    ],
)
def test_a_bad_cron_or_zone_answers_its_message_never_a_500(client, cron_text, tz, message):
    response = preview(client, cron_text, tz, HTTP_HX_REQUEST="true")

    assertContains(response, message)
    assertContains(response, 'id="preview-problem"')


def test_a_rare_due_time_is_found_years_ahead(client):
    response = preview(client, "0 12 29 2 *", "UTC", HTTP_HX_REQUEST="true")

    assertContains(response, "-02-29T12:00:00+00:00")


def test_the_preview_uses_the_sites_zone_when_none_is_typed(client, settings):
    settings.TIME_ZONE = "Asia/Tokyo"

    response = preview(client, "@daily", "", HTTP_HX_REQUEST="true")

    assertContains(response, "in Asia/Tokyo")
    assertContains(response, "+09:00")


def test_without_htmx_the_preview_is_a_page(client):
    response = preview(client, "@hourly", "UTC")

    assertContains(response, "<html")
    assertContains(response, 'id="preview-times"')


# /schedules/


def test_the_schedules_page_lists_every_schedule_with_its_next_due_time_and_last_outcome(client, flow):
    other = Flow.objects.create(flow_name="nightly", flow_json=EXAMPLE_JSON)
    berlin = schedule_of(flow, "30 2 * * *", "Europe/Berlin")
    york = schedule_of(other, "0 9 * * 1", "America/New_York", note="mondays")
    pause(york)
    run = make_run(trigger="schedule", schedule_id=berlin.pk)
    tick(berlin, "fired", run_id=run.pk)

    html = client.get("/schedules/").content.decode()

    berlin_row = section(html, f"schedule-{berlin.pk}").split("</tr>")[0]
    york_row = section(html, f"schedule-{york.pk}").split("</tr>")[0]
    assert f'href="/flows/example/#schedule-{berlin.pk}">example</a>' in berlin_row
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT02:30:00\+0[12]:00"', berlin_row)
    assert 'data-outcome="fired"' in berlin_row and f'href="/runs/{run.pk}/"' in berlin_row
    assert "○ paused" in york_row and "no tick yet" in york_row and "mondays" in york_row
    # By flow name, whatever the case.
    assert html.index(f'id="schedule-{berlin.pk}"') < html.index(f'id="schedule-{york.pk}"')


def test_the_nav_links_the_schedules_page(client, flow):
    response = client.get("/schedules/")

    assertContains(response, '<a href="/schedules/" aria-current="page">Schedules</a>')


def test_the_ledger_shows_newest_first_with_each_run_linked(client, flow):
    schedule = schedule_of(flow, overlap="skip_if_running")
    active = make_run(status="running")
    fired = make_run(trigger="schedule", schedule_id=schedule.pk)
    first = tick(schedule, "fired", hours_ago=3, run_id=fired.pk)
    skipped = tick(
        schedule,
        "skipped",
        hours_ago=2,
        run_id=active.pk,
        detail=f"skipped: run {active.pk} of this flow is still active",
    )
    refused = tick(schedule, "refused", hours_ago=1, detail="flow 'example' is disabled <b>")

    html = section(client.get("/schedules/").content.decode(), "ticks")

    assert [int(i) for i in re.findall(r'data-tick="(\d+)"', html)] == [refused.pk, skipped.pk, first.pk]
    assert f'<a href="/runs/{fired.pk}/" class="tick-run"\n  >run #{fired.pk}</a>' in html
    assert f'<a href="/runs/{active.pk}/" class="tick-run"\n  >active run #{active.pk}</a>' in html
    assert "flow &#x27;example&#x27; is disabled &lt;b&gt;" in html


def test_the_ledger_filters_by_outcome_and_flow(client, flow):
    other = Flow.objects.create(flow_name="nightly", flow_json=EXAMPLE_JSON)
    mine, theirs = schedule_of(flow), schedule_of(other)
    missed = tick(mine, "missed", hours_ago=3)
    fired = tick(mine, "fired", hours_ago=2)
    their_missed = tick(theirs, "missed", hours_ago=1)

    def ticks(query: str) -> list[int]:
        html = client.get(f"/schedules/{query}").content.decode()
        return [int(i) for i in re.findall(r'data-tick="(\d+)"', html)]

    assert ticks("?outcome=missed") == [their_missed.pk, missed.pk]
    assert ticks("?flow=example") == [fired.pk, missed.pk]
    assert ticks("?flow=example&outcome=missed") == [missed.pk]
    assert ticks("?outcome=refused") == []


def test_the_flow_filter_also_narrows_the_schedules(client, flow):
    other = Flow.objects.create(flow_name="nightly", flow_json=EXAMPLE_JSON)
    mine, theirs = schedule_of(flow), schedule_of(other)

    html = client.get("/schedules/?flow=nightly").content.decode()

    assert f'id="schedule-{theirs.pk}"' in html and f'id="schedule-{mine.pk}"' not in html


def test_the_ledger_pages_by_id(client, flow):
    schedule = schedule_of(flow)
    ticks = [tick(schedule, "missed", hours_ago=i + 1) for i in range(60)]
    newest_first = sorted((t.pk for t in ticks), reverse=True)

    first = client.get("/schedules/").content.decode()
    older = re.search(r'href="\?before=(\d+)" rel="next" id="older-ticks"', first)
    second = client.get(f"/schedules/?before={older.group(1)}").content.decode()

    assert [int(i) for i in re.findall(r'data-tick="(\d+)"', first)] == newest_first[:50]
    assert [int(i) for i in re.findall(r'data-tick="(\d+)"', second)] == newest_first[50:]
    assert 'id="older-ticks"' not in second
    assert "⇤ Newest" in second


def test_the_ledger_never_counts_or_offsets(client, flow):
    schedule_of(flow)

    with CaptureQueriesContext(connection) as queries:
        client.get("/schedules/?before=10&outcome=missed")

    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "COUNT(" not in sql and "OFFSET" not in sql


@pytest.mark.parametrize("query", ["?outcome=later", "?flow=nope", "?before=x", "?before=-1"])
def test_a_bad_filter_is_named_never_a_500(client, flow, query):
    response = client.get(f"/schedules/{query}")

    assert response.status_code == 200
    assertContains(response, 'id="filter-errors"')


# /schedules/ takes: session, user, the permissions (one), the flow names of the filter, the
# schedules, their last ticks (one query per 200 schedules), the ledger page and its flows.
SCHEDULES_QUERIES = 8


@pytest.mark.parametrize("count", [2, 30])
def test_the_schedules_page_takes_a_fixed_number_of_queries(client, flow, count, django_assert_num_queries):
    for i in range(count):
        schedule = schedule_of(Flow.objects.create(flow_name=f"f{i}", flow_json=EXAMPLE_JSON))
        tick(schedule, "missed")

    with django_assert_num_queries(SCHEDULES_QUERIES):
        client.get("/schedules/")


# The overview and the run page


def test_the_overview_shows_each_flows_earliest_next_due_time_in_its_schedules_zone(client, flow):
    other = Flow.objects.create(flow_name="nightly", flow_json=EXAMPLE_JSON)
    schedule_of(flow, "0 3 * * *", "Asia/Tokyo")
    soon = schedule_of(flow, "* * * * *", "America/New_York")
    pause(schedule_of(other))

    html = client.get("/").content.decode()

    row = section(html, f"flow-{flow.pk}").split("</tr>")[0]
    assert 'class="next-due muted small"' in row
    assert f"schedule {soon.pk}: * * * * *" in row
    assert re.search(r'<time datetime="[^"]+-0[45]:00">', row)  # New York's offset
    assert "next-due" not in section(html, f"flow-{other.pk}").split("</tr>")[0]  # paused only


def test_the_run_page_names_the_schedule_of_a_scheduled_run(client, flow):
    schedule = schedule_of(flow)
    run = make_run(
        trigger="schedule",
        schedule_id=schedule.pk,
        triggered_by=f"schedule {schedule.pk} (30 2 * * * Europe/Berlin)",
    )

    response = client.get(f"/runs/{run.pk}/")

    link = f'<a href="/runs/{run.pk}/flow/#schedule-{schedule.pk}"\n  id="run-schedule"'
    assertContains(response, link)
    assertContains(response, f">schedule {schedule.pk} (30 2 * * * Europe/Berlin)</a>")


def test_the_run_page_of_a_run_started_by_hand_names_no_schedule(client, flow):
    run = make_run()

    assertNotContains(client.get(f"/runs/{run.pk}/"), 'id="run-schedule"')


def test_the_flow_page_of_a_deleted_flow_lists_its_schedules_without_the_add_form(client, flow):
    schedule = schedule_of(flow)
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    response = client.get("/flows/example/")

    assertContains(response, f'id="schedule-{schedule.pk}"')
    assertNotContains(response, 'id="schedule-form"')


def test_a_schedule_whose_flow_is_gone_still_lists_and_can_be_removed(client, flow):
    schedule = schedule_of(flow)
    Flow.all_objects.filter(pk=flow.pk).delete()

    listing = client.get("/schedules/")
    removed = client.post(f"/schedules/{schedule.pk}/remove/")

    assertContains(listing, f"flow {flow.pk} (removed)")
    assert removed["Location"] == "/schedules/"
    assert Schedule.objects.count() == 0


def test_an_overdue_schedule_is_flagged(client, flow):
    schedule = schedule_of(flow)
    Schedule.objects.filter(pk=schedule.pk).update(next_due=datetime(2020, 1, 1, tzinfo=UTC))

    assertContains(client.get("/flows/example/"), "is a scheduler running?")
    assertContains(client.get("/schedules/"), ">overdue</span>")
