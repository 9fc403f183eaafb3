import pytest
from playwright.sync_api import Page, expect

from tests.factories import ALL_PERMS, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_operator_logs_in_through_the_login_form_and_lands_on_the_overview(page: Page, live_server):
    make_user("ann", *ALL_PERMS, password="a-long-test-password")

    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/admin/login/?next=/")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_test_id("username")).to_have_text("ann")
    expect(page.get_by_role("heading", name="Flows")).to_be_visible()
