"""Run history: filterable by flow and status, keyset pages on the id, no COUNT."""

import pytest

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
    from flows.models import Flow

    run = make_run()
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")
    Flow.objects.create(flow_name="example", flow_json=flow.flow_json)

    renamed = client.get("/runs/?flow=nightly").content.decode()
    reused = client.get("/runs/?flow=example").content.decode()

    assert f'data-run="{run.pk}"' in renamed
    assert f'data-run="{run.pk}"' not in reused
