import pytest
from django.test import override_settings

from flows.models import Flow

pytestmark = pytest.mark.django_db


def test_a_missing_permission_page_says_which_permission(client, django_user_model):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 403
    assert b"Missing permission: flows.view_flow" in response.content


def test_an_unknown_flow_page_names_the_flow_escaped(admin_client):
    response = admin_client.get("/flows/%3Cb%3Enope/")

    assert response.status_code == 404
    assert b"No flow named &#x27;&lt;b&gt;nope&#x27;" in response.content


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000, DEBUG=False)
def test_an_oversized_post_gets_a_clear_400(admin_client):
    Flow.objects.create(flow_name="example", flow_json="{}")

    response = admin_client.post("/flows/example/validate/", {"flow_json": "x" * 5000})

    assert response.status_code == 400
    assert b"too large" in response.content
