"""The overview: flows with state and recent runs, latest runs, latest errors; no N+1."""

import re

import pytest

from flows.models import Flow, FlowDescription
from flows.views import overview
from flows.views.overview import recent_runs_by_flow, run_needs_input
from tests.factories import EXAMPLE, EXAMPLE_JSON, definition, log, make_flow, make_run, step

pytestmark = pytest.mark.django_db


def test_the_overview_lists_every_flow_that_is_not_deleted(client, flow):
    Flow.objects.create(flow_name="off", flow_json=EXAMPLE_JSON, enabled=False)
    Flow.objects.create(flow_name="gone", flow_json=EXAMPLE_JSON, deleted=True)

    html = client.get("/").content.decode()

    assert 'data-flow="example"' in html and 'data-flow="off"' in html
    assert 'data-flow="gone"' not in html
    assert "● enabled" in html and "○ disabled" in html


def test_each_flow_shows_its_last_run_status_and_time(client, flow):
    make_run(status="failed")
    last = make_run(status="succeeded")

    html = client.get("/").content.decode()

    row = html[html.index('data-flow="example"') :]
    assert f'href="/runs/{last.pk}/"><span class="status status-succeeded"' in row
    assert '<time class="ts"' in row


def test_each_flow_shows_its_last_ten_runs_as_marks_with_text(client, flow):
    runs = [make_run(status="failed" if i % 3 == 0 else "succeeded") for i in range(12)]

    html = client.get("/").content.decode()

    assert html.count('class="mark mark-') == 10
    assert f"run {runs[-1].pk} succeeded" in html
    assert f"run {runs[1].pk} " not in html  # the two oldest are beyond the ten


def test_a_flow_that_never_ran_says_so(client, flow):
    assert "never run" in client.get("/").content.decode()


def test_the_run_button_posts_to_the_flows_run_url(client, flow):
    html = client.get("/").content.decode()

    assert 'action="/flows/example/run/"' in html
    assert '<input type="hidden" name="from" value="overview">' in html


def test_a_disabled_flow_has_a_disabled_run_button(client):
    Flow.objects.create(flow_name="off", flow_json=EXAMPLE_JSON, enabled=False)

    assert 'disabled title="Disabled flows cannot run"' in client.get("/").content.decode()


def test_the_overview_shows_recent_runs_and_recent_errors(client, flow):
    run = make_run()
    log("all is well", level="INFO")
    log("disk full", level="ERROR")
    log("on fire", level="CRITICAL")

    html = client.get("/").content.decode()

    assert f'data-run="{run.pk}"' in html
    assert "disk full" in html and "on fire" in html
    assert "all is well" not in html


def test_the_overview_has_empty_states(client):
    html = client.get("/").content.decode()

    assert "No flows yet." in html
    assert "No runs yet." in html
    assert "No errors logged." in html


def test_recent_runs_by_flow_returns_the_newest_few_of_each_flow(flow):
    ids = {
        name: Flow.objects.create(flow_name=name, flow_json=EXAMPLE_JSON).pk for name in ("a", "b", "never")
    }
    a = [make_run("a") for _ in range(4)]
    b = [make_run("b")]

    found = recent_runs_by_flow(list(ids.values()), per_flow=3)

    assert [r.pk for r in found[ids["a"]]] == [a[3].pk, a[2].pk, a[1].pk]
    assert [r.pk for r in found[ids["b"]]] == [b[0].pk]
    assert ids["never"] not in found


def test_recent_runs_by_flow_finds_runs_by_flow_id_whatever_name_they_ran_under(flow):
    run = make_run()
    make_run("example", flow_id=None)

    Flow.objects.filter(pk=flow.pk).update(flow_name='it\'s "quoted"; --')

    assert [r.pk for r in recent_runs_by_flow([flow.pk])[flow.pk]] == [run.pk]


def make_flows(count: int) -> None:
    for i in range(count):
        Flow.objects.create(flow_name=f"flow-{i:03}", flow_json=EXAMPLE_JSON)
        make_run(f"flow-{i:03}")
        make_run(f"flow-{i:03}", status="failed")


# session, user, the user's and groups' permissions (one query), flows, their runs, their descriptions,
# their schedules' next due times (one query for all the flows), recent runs, and the ERROR
# and CRITICAL lines (one index range each), and the no-worker / no-scheduler banner (one query).
OVERVIEW_QUERIES = 11
# A search adds one: the ids of the flows whose description contains the text.
SEARCH_QUERIES = OVERVIEW_QUERIES + 1
# A refresh sends no errors: session, user, permissions, flows, runs, descriptions, next due
# times, recent runs, the banner.
REFRESH_QUERIES = OVERVIEW_QUERIES - 2


def test_the_overview_takes_a_fixed_number_of_queries(client, django_assert_num_queries):
    make_flows(3)

    with django_assert_num_queries(OVERVIEW_QUERIES):
        client.get("/")


def test_the_overview_query_count_does_not_grow_with_the_number_of_flows(client, django_assert_num_queries):
    make_flows(40)

    with django_assert_num_queries(OVERVIEW_QUERIES):
        client.get("/")


def test_a_search_takes_one_more_query_however_many_flows_match(client, django_assert_num_queries):
    make_flows(40)
    describe("flow-001", "the flow-0 family")

    with django_assert_num_queries(SEARCH_QUERIES):
        client.get("/?q=flow-0")


def test_a_refresh_takes_a_fixed_number_of_queries(client, django_assert_num_queries):
    make_flows(40)
    make_run("flow-007", status="running")

    with django_assert_num_queries(REFRESH_QUERIES):
        refresh(client)


# Search and order


def describe(flow_name: str, text: str) -> FlowDescription:
    flow_id = Flow.all_objects.get(flow_name=flow_name).pk
    return FlowDescription.objects.create(flow_id=flow_id, text=text)


def listed(html: str) -> list[str]:
    return re.findall(r'<tr id="flow-\d+" data-flow="([^"]*)"', html)


def test_the_overview_lists_flows_by_name_whatever_their_case(client):
    for name in ("Nightly ETL", "example", "beta", "Alpha"):
        make_flow(name, *EXAMPLE)

    assert listed(client.get("/").content.decode()) == ["Alpha", "beta", "example", "Nightly ETL"]


def test_a_search_lists_the_flows_whose_name_contains_the_text_whatever_its_case(client):
    for name in ("Nightly ETL", "etl-backfill", "example"):
        make_flow(name, *EXAMPLE)

    assert listed(client.get("/?q=eTl").content.decode()) == ["etl-backfill", "Nightly ETL"]


def test_a_search_also_finds_flows_by_their_description(client):
    make_flow("nightly", *EXAMPLE)
    make_flow("example", *EXAMPLE)
    describe("nightly", "Loads the Billing exports into the warehouse")

    assert listed(client.get("/?q=billing").content.decode()) == ["nightly"]


def test_a_search_takes_percent_and_underscore_literally(client):
    make_flow("load_orders", *EXAMPLE)
    make_flow("load-orders", *EXAMPLE)

    assert listed(client.get("/?q=d_o").content.decode()) == ["load_orders"]
    assert listed(client.get("/?q=%25").content.decode()) == []


def test_a_search_never_lists_deleted_flows(client):
    make_flow("gone", *EXAMPLE, deleted=True)
    describe("gone", "gone")

    assert listed(client.get("/?q=gone").content.decode()) == []


def test_the_search_box_keeps_the_text_searched(client, flow):
    html = client.get("/?q=exa").content.decode()

    assert 'name="q" value="exa"' in html
    assert 'id="search-clear"' in html


def test_a_search_that_finds_nothing_says_so(client, flow):
    html = client.get("/?q=nothing+like+it").content.decode()

    assert "No flow's name or description contains “nothing like it”." in html
    assert "No flows yet." not in html


def test_a_search_text_that_is_too_long_is_refused_with_a_message(client, flow):
    response = client.get("/", {"q": "x" * 201})

    assert response.status_code == 200
    assert "Ensure this value has at most 200 characters" in response.content.decode()
    assert listed(response.content.decode()) == []


def test_a_search_text_with_a_null_character_is_refused_with_a_message(client, flow):
    response = client.get("/", {"q": "a\x00b"})

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_each_flow_shows_its_description_escaped_and_shortened(client, flow):
    describe("example", "<b>Loads</b> the exports " + "and more " * 40)

    row = client.get("/").content.decode().split('data-flow="example"')[1]

    assert "&lt;b&gt;Loads&lt;/b&gt; the exports and more" in row
    assert "<b>" not in row
    assert "and more " * 40 not in row
    assert "…" in row


def test_the_overview_lists_at_most_max_flows_and_says_there_are_more(client, monkeypatch):
    monkeypatch.setattr(overview, "MAX_FLOWS", 2)
    for name in ("c", "a", "b"):
        make_flow(name, *EXAMPLE)

    html = client.get("/").content.decode()

    assert listed(html) == ["a", "b"]
    assert "Showing the first 2 flows by name: search to find the others." in html


def test_the_overview_says_nothing_of_more_flows_when_it_lists_them_all(client, flow):
    assert 'id="flows-more"' not in client.get("/").content.decode()


# The Run button


def row_of(html: str, name: str) -> str:
    start = html.index(f'data-flow="{name}"')
    return html[start : html.index("</tr>", start)]


def test_the_run_button_asks_for_confirmation_before_queuing(client, flow):
    row = row_of(client.get("/").content.decode(), "example")

    assert 'data-confirm="Run example now, with no input?"' in row


def test_a_flow_that_reads_its_run_input_has_a_run_link_to_its_run_form(client):
    make_flow("greet", step("hello", msg="@_input.name"))

    row = row_of(client.get("/").content.decode(), "greet")

    assert 'href="/flows/greet/#run-form"' in row
    assert 'action="/flows/greet/run/"' not in row


def test_a_disabled_flow_that_reads_its_run_input_keeps_a_disabled_button(client):
    make_flow("greet", step("hello", msg="@_input.name"), enabled=False)

    row = row_of(client.get("/").content.decode(), "greet")

    assert 'disabled title="Disabled flows cannot run"' in row
    assert "#run-form" not in row


@pytest.mark.parametrize(
    "params",
    [
        {"whole": "@_input"},
        {"msg": "@_input.name"},
        {"deep": {"list": [1, {"x": "@_input.a.b"}]}},
    ],
)
def test_a_reference_to_the_run_input_anywhere_in_the_params_counts(params):
    assert run_needs_input(definition(step("s1"), step("s2", **params)))


@pytest.mark.parametrize(
    "text",
    [
        definition(step("s1", msg="@@_input is how to write it")),  # a literal
        definition(step("s1", table={"@_input": "a key, never resolved"})),
        definition(step("s1", msg="the @_input.name inside a text is text")),
        definition(step("s1", msg="@_inputs")),  # another root (and invalid)
        definition({"name": "@_input", "mod": "common.Kt", "method": "prt"}),  # not in params
        '{"procedures": [',  # unreadable
        "[]",
    ],
)
def test_what_is_not_a_reference_to_the_run_input_does_not_count(text):
    assert not run_needs_input(text)


# Live refresh


def refresh(client, **query) -> str:
    return client.get(
        "/", query, headers={"HX-Request": "true", "HX-Target": "overview-live"}
    ).content.decode()


def poller(html: str) -> str:
    return re.search(r'<span id="overview-live"[^>]*>', html).group()


def test_the_overview_polls_while_a_flows_run_is_queued_or_running(client, flow):
    make_run(status="queued")

    html = client.get("/").content.decode()

    assert f'hx-get="/?live={flow.pk}" hx-trigger="every 2s"' in poller(html)
    assert "updating live" in html


def test_the_overview_does_not_poll_when_no_run_is_active(client, flow):
    make_run(status="succeeded")

    html = client.get("/").content.decode()

    assert "hx-get" not in poller(html)
    assert "updating live" not in html


def test_the_poller_keeps_the_search(client, flow):
    make_run(status="running")

    assert f'hx-get="/?q=exa&amp;live={flow.pk}"' in poller(client.get("/?q=exa").content.decode())


def test_a_refresh_sends_the_active_rows_and_the_recent_runs_out_of_band(client, flow):
    other = make_flow("other", *EXAMPLE)
    make_run("other")
    running = make_run(status="running")

    html = refresh(client)

    assert html.startswith('<span id="overview-live"')
    assert (
        f'<template><tr id="flow-{flow.pk}" data-flow="example" data-active hx-swap-oob="true">'
        in " ".join(html.split())
    )
    assert f"run {running.pk} running" in html
    assert f'id="flow-{other.pk}"' not in html
    assert '<section id="overview-recent" hx-swap-oob="true">' in html
    assert "<html" not in html and "recent-errors" not in html


def test_a_refresh_sends_a_row_that_was_active_and_has_finished_then_stops(client, flow):
    done = make_run(status="succeeded")

    html = refresh(client, live=str(flow.pk))

    assert f"run {done.pk} succeeded" in html
    assert "hx-get" not in poller(html)


def test_a_refresh_ignores_what_is_not_a_flow_id(client, flow):
    response = client.get(
        "/", {"live": ["x", "-1", "²"]}, headers={"HX-Request": "true", "HX-Target": "overview-live"}
    )

    assert response.status_code == 200
    assert 'id="flow-' not in response.content.decode()


def test_a_plain_htmx_request_gets_the_whole_page(client, flow):
    html = client.get("/", headers={"HX-Request": "true"}).content.decode()

    assert "<html" in html
