"""The overview: flows with state and recent runs, latest runs, latest errors; no N+1."""

import pytest

from flows.models import Flow
from flows.views.overview import recent_runs_by_flow
from tests.factories import EXAMPLE_JSON, log, make_run

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


# session, user, the user's and groups' permissions, flows, their runs, recent runs,
# and the ERROR and CRITICAL lines (one index range each).
OVERVIEW_QUERIES = 9


def test_the_overview_takes_a_fixed_number_of_queries(client, django_assert_num_queries):
    make_flows(3)

    with django_assert_num_queries(OVERVIEW_QUERIES):
        client.get("/")


def test_the_overview_query_count_does_not_grow_with_the_number_of_flows(client, django_assert_num_queries):
    make_flows(40)

    with django_assert_num_queries(OVERVIEW_QUERIES):
        client.get("/")
