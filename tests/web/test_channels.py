"""/channels/: add, test and remove channels; URLs masked; a permission of its own."""

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from alerts.models import Channel, DeliveryAttempt, Notification
from tests.factories import client_for, make_user

pytestmark = pytest.mark.django_db

SECRET_URL = "json://user:s3cret-token@127.0.0.1:9/hook"


def test_a_saved_channel_is_shown_with_its_url_masked(client):
    response = client.post("/channels/add/", {"name": "ops", "url": SECRET_URL}, follow=True)

    assertContains(response, "Channel &#x27;ops&#x27; added: json://user:****@127.0.0.1:9/hook")
    assertContains(response, 'data-channel="ops"')
    assertNotContains(response, "s3cret")
    assert Channel.objects.get().created_by == "operator"


def test_a_refused_channel_is_a_400_with_the_reason_and_the_name_kept(client):
    response = client.post("/channels/add/", {"name": "ops", "url": "nonsense://x"})

    assert response.status_code == 400
    assertContains(response, "Apprise cannot read this URL", status_code=400)
    assertContains(response, 'value="ops"', status_code=400)


def test_a_user_without_manage_channels_sees_the_page_without_the_buttons(lacking):
    Channel.objects.create(name="ops", url=SECRET_URL)

    response = lacking("manage_channels").get("/channels/")

    assertContains(response, 'data-channel="ops"')
    assertNotContains(response, "Send a test")
    assertNotContains(response, 'id="channel-add"')


def test_change_flow_alone_does_not_manage_channels():
    editor = client_for(make_user("editor", "view_flow", "change_flow"))

    assert editor.post("/channels/add/", {"name": "ops", "url": SECRET_URL}).status_code == 403
    assert not Channel.objects.exists()


def test_the_test_button_sends_at_once_and_shows_the_result(client, receiver):
    ops = Channel.objects.create(name="ops", url=receiver.url)

    response = client.post(f"/channels/{ops.pk}/test/", follow=True)

    assertContains(response, "Test message delivered to &#x27;ops&#x27;.")
    assert len(receiver.posts) == 1
    assert not Notification.objects.exists()  # not through the outbox


def test_a_failed_test_shows_apprises_reason(client, receiver):
    ops = Channel.objects.create(name="ops", url=receiver.url)
    receiver.answers = [500]

    response = client.post(f"/channels/{ops.pk}/test/", follow=True)

    assertContains(response, "Test message to &#x27;ops&#x27; failed:")


def test_remove_deletes_the_channel(client):
    ops = Channel.objects.create(name="ops", url=SECRET_URL)

    response = client.post(f"/channels/{ops.pk}/remove/")

    assert response.status_code == 303
    assert not Channel.objects.exists()


def test_delivery_attempts_are_listed_and_escaped(client):
    notification = Notification.objects.create(
        run_id=7, event="failed", channel="ops", dedup_key="7:failed:ops", message="m"
    )
    DeliveryAttempt.objects.create(
        notification=notification, at=notification.created_at, channel="ops", ok=False, error="<b>refused</b>"
    )

    response = client.get("/channels/")

    assertContains(response, 'data-ok="false"')
    assertContains(response, "&lt;b&gt;refused&lt;/b&gt;")
    assertContains(response, 'href="/runs/7/"')
