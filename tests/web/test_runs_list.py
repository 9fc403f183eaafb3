"""Run history: filterable by flow and status, keyset pages on the id, no COUNT."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from flows.models import Flow
from runner.models import Run
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def test_the_run_list_shows_runs_newest_first(client, flow):
    first, second = make_run(), make_run(status="failed")

    html = client.get("/runs/").content.decode()

    assert html.index(f'data-run="{second.pk}"') < html.index(f'data-run="{first.pk}"')


def test_the_run_list_filters_by_flow(client, flow):
    mine, other = make_run(), make_run(flow_name="other")

    html = client.get("/runs/?flow=example").content.decode()

    assert f'data-run="{mine.pk}"' in html and f'data-run="{other.pk}"' not in html


def test_the_run_list_filters_by_status(client, flow):
    ok, bad = make_run(), make_run(status="failed")

    html = client.get("/runs/?status=failed").content.decode()

    assert f'data-run="{bad.pk}"' in html and f'data-run="{ok.pk}"' not in html


def test_the_run_list_pages_with_before(client, flow, monkeypatch):
    monkeypatch.setattr("flows.views.runs.RUNS_PAGE", 2)
    runs = [make_run() for _ in range(3)]

    first = client.get("/runs/?status=succeeded").content.decode()
    second = client.get(f"/runs/?status=succeeded&before={runs[1].pk}").content.decode()

    assert f"?status=succeeded&amp;before={runs[1].pk}" in first
    assert f'data-run="{runs[0].pk}"' in second and f'data-run="{runs[2].pk}"' not in second


def test_the_run_list_never_counts(client, flow, django_assert_max_num_queries):
    make_run()

    with django_assert_max_num_queries(8) as captured:
        client.get("/runs/?flow=example&status=succeeded")

    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_bad_status_filter_is_reported_not_crashed(client, flow):
    response = client.get("/runs/?status=bogus")

    assert response.status_code == 200
    assert "Bad filter" in response.content.decode()


def test_the_run_list_has_an_empty_state(client):
    assert "No runs yet." in client.get("/runs/").content.decode()


def test_filtering_by_a_flow_that_is_gone_keeps_it_selected(client):
    run = make_run(flow_name="vanished")

    html = client.get("/runs/?flow=vanished").content.decode()

    assert f'data-run="{run.pk}"' in html
    assert '<option value="vanished" selected>' in html


def test_filtering_by_a_renamed_flow_shows_the_runs_it_had_under_its_old_name(client, flow):
    run = make_run()
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")
    Flow.objects.create(flow_name="example", flow_json=flow.flow_json)

    renamed = client.get("/runs/?flow=nightly").content.decode()
    reused = client.get("/runs/?flow=example").content.decode()

    assert f'data-run="{run.pk}"' in renamed
    assert f'data-run="{run.pk}"' not in reused


def test_a_bad_status_filter_names_the_field_in_its_message(client, flow):
    html = client.get("/runs/?status=bogus").content.decode()

    assert "<li>Status: Select a valid choice. bogus is not one of the available choices.</li>" in html


def test_the_flow_name_links_to_the_page_of_the_runs_flow(client, flow):
    run = make_run()

    html = client.get("/runs/").content.decode()

    assert f'<a href="/runs/{run.pk}/flow/" title="The flow\'s page">example</a>' in html


def test_a_runs_flow_link_leads_to_the_flow_under_its_current_name(client, flow):
    run = make_run()
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")
    Flow.objects.create(flow_name="example", flow_json=flow.flow_json)

    response = client.get(f"/runs/{run.pk}/flow/")

    assert response.status_code == 302
    assert response["Location"] == "/flows/nightly/"


def test_a_runs_flow_link_leads_to_a_deleted_flows_page(client, flow):
    run = make_run()
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    assert client.get(f"/runs/{run.pk}/flow/")["Location"] == "/flows/example/"


def test_a_runs_flow_link_leads_to_the_runs_of_a_flow_gone_from_wf_flow(client):
    run = make_run(flow_name="vanished")

    assert client.get(f"/runs/{run.pk}/flow/")["Location"] == "/runs/?flow=vanished"


def test_a_runs_flow_link_leads_to_the_run_page_when_another_flow_took_the_gone_flows_name(client, flow):
    run = make_run(flow_id=flow.pk + 1000)

    assert client.get(f"/runs/{run.pk}/flow/")["Location"] == f"/runs/{run.pk}/"


def test_the_run_list_filters_by_trigger(client, flow):
    web, cli = make_run(trigger="web"), make_run(trigger="cli")

    html = client.get("/runs/?trigger=cli").content.decode()

    assert f'data-run="{cli.pk}"' in html and f'data-run="{web.pk}"' not in html


def test_the_run_list_filters_by_the_time_a_run_was_queued(client, flow):
    old, inside, new = (make_run() for _ in range(3))
    Run.objects.filter(pk=old.pk).update(created_at=datetime(2025, 3, 1, 8, 0, tzinfo=UTC))
    Run.objects.filter(pk=inside.pk).update(created_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    Run.objects.filter(pk=new.pk).update(created_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC))

    html = client.get("/runs/?since=2025-03-01T09:00&until=2025-03-01T11:00").content.decode()

    assert f'data-run="{inside.pk}"' in html
    assert f'data-run="{old.pk}"' not in html and f'data-run="{new.pk}"' not in html


def test_the_time_filter_reads_the_times_in_the_browsers_zone(client, flow):
    run = make_run()
    Run.objects.filter(pk=run.pk).update(created_at=datetime(2025, 3, 1, 10, 0, tzinfo=UTC))

    paris = client.get("/runs/?since=2025-03-01T10:30&tz=Europe/Paris").content.decode()
    utc = client.get("/runs/?since=2025-03-01T10:30").content.decode()

    assert f'data-run="{run.pk}"' in paris  # 10:30 in Paris is 09:30 UTC
    assert f'data-run="{run.pk}"' not in utc


@pytest.mark.parametrize(
    "query, message",
    [
        ("since=yesterday", "Queued from: Enter a valid date/time."),
        (
            "until=9999-12-31T23:59&tz=America/Los_Angeles",
            "Queued until: Dates must be between 0001-01-02 and 9999-12-30.",
        ),
        ("since=2025-03-02T00:00&until=2025-03-01T00:00", "Queued from must not be later than Queued until."),
    ],
)
def test_a_bad_time_filter_is_reported_not_crashed(client, flow, query, message):
    make_run()

    response = client.get(f"/runs/?{query}")

    assert response.status_code == 200
    assert f"<li>{message}</li>" in response.content.decode()
    assert "data-run=" not in response.content.decode()


def test_a_filter_that_matches_nothing_says_so(client, flow):
    make_run(trigger="web")

    assert "No runs match these filters." in client.get("/runs/?trigger=cli").content.decode()


def test_the_run_list_polls_itself_with_its_filters_while_a_run_it_shows_is_active(client, flow):
    make_run(status="running")

    html = client.get("/runs/?flow=example").content.decode()

    assert '<div id="run-list" data-live="true"' in html
    assert 'hx-get="/runs/?flow=example" hx-trigger="every 2s" hx-swap="outerHTML"' in html


def test_the_run_list_does_not_poll_when_no_run_it_shows_is_active(client, flow):
    make_run(status="running", trigger="cli")
    make_run(status="failed", trigger="web")

    html = client.get("/runs/?trigger=web").content.decode()

    assert '<div id="run-list" data-live="false"' in html
    assert "hx-trigger" not in html


def test_the_poll_gets_only_the_list_and_stops_once_nothing_shown_is_active(client, flow):
    run = make_run(status="running")
    Run.objects.filter(pk=run.pk).update(status="succeeded", finished_at=timezone.now())

    html = client.get("/runs/", HTTP_HX_REQUEST="true").content.decode()

    assert html.startswith('<div id="run-list" data-live="false"')
    assert "<html" not in html and 'id="run-filters"' not in html
    assert f'data-run="{run.pk}" data-status="succeeded"' in html
    assert "hx-trigger" not in html


def test_a_running_run_shows_its_time_so_far(client, flow):
    make_run(status="running", started_at=timezone.now() - timedelta(seconds=90))

    html = client.get("/runs/").content.decode()

    assert '<td class="run-duration nowrap">1 min 30 s…</td>' in html


def test_the_poll_takes_as_few_queries_as_the_page(client, flow, django_assert_num_queries):
    for _ in range(5):
        make_run(status="running")

    # The session, the user, its permissions and its groups' (one query), the flow names, the runs.
    with django_assert_num_queries(5):
        client.get("/runs/", HTTP_HX_REQUEST="true")
