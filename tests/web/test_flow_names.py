"""Legacy rows may hold names the new-flow form refuses; every one still gets working pages."""

import pytest
from django.urls import reverse

from flows.models import Flow
from tests.factories import EXAMPLE_JSON

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["a/b", "50% off", "..", ".", "x%2Fy", "new", "deleted"])
def test_any_stored_name_links_to_its_own_editor(client, name):
    Flow.objects.create(flow_name=name, flow_json=EXAMPLE_JSON)

    url = reverse("wf-flow", args=[name])
    response = client.get(url)

    assert response.status_code == 200
    assert response.context["flow"].flow_name == name
    assert url in client.get("/").content.decode()


def test_actions_on_a_legacy_name_with_a_slash_reach_that_flow(client):
    Flow.objects.create(flow_name="a/b", flow_json=EXAMPLE_JSON)

    response = client.post(reverse("wf-flow-disable", args=["a/b"]))

    assert response["Location"] == reverse("wf-flow", args=["a/b"])
    assert Flow.objects.get(flow_name="a/b").enabled is False
