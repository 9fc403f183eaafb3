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
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_test_id("username")).to_have_text("ann")
    expect(page.get_by_role("heading", name="Flows")).to_be_visible()


def test_the_login_page_is_branded_with_the_products_header_and_look(page: Page, live_server):
    page.goto(live_server.url + "/")

    expect(page.locator("header.topbar .brand")).to_have_text("⚙ Workflows")
    expect(page.get_by_role("heading", name="Log in to Workflows")).to_be_visible()
    expect(page.get_by_text("Django administration")).to_have_count(0)
    # The dashboard's stylesheet is applied: the header bar has its dark background.
    expect(page.locator("header.topbar")).to_have_css("background-color", "rgb(29, 35, 41)")


def test_a_wrong_password_is_answered_on_the_branded_page(page: Page, live_server):
    make_user("ann", *ALL_PERMS, password="a-long-test-password")
    page.goto(live_server.url + "/")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator("#login-errors")).to_contain_text("correct username and password")
    expect(page.locator("header.topbar .brand")).to_have_text("⚙ Workflows")


def test_logging_out_shows_the_branded_logged_out_page(page: Page, live_server):
    make_user("ann", *ALL_PERMS, password="a-long-test-password")
    page.goto(live_server.url + "/")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("username")).to_have_text("ann")

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="You are logged out")).to_be_visible()
    expect(page.locator("header.topbar .brand")).to_have_text("⚙ Workflows")
    page.get_by_role("link", name="Log in again").click()
    expect(page).to_have_url(live_server.url + "/admin/login/?next=/")
