"""The OpenAPI document and the browsable docs page, which must work under the site's CSP."""

import os

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import sync_playwright

from tests.api.helpers import API
from tests.factories import ALL_PERMS, client_for, make_user

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
OPERATIONS = {
    ("get", "/flows"),
    ("get", "/flows/{name}"),
    ("put", "/flows/{name}"),
    ("post", "/validate"),
    ("post", "/flows/{name}/runs"),
    ("get", "/runs"),
    ("get", "/runs/{run_id}"),
    ("post", "/runs/{run_id}/cancel"),
    ("post", "/runs/{run_id}/resume"),
    ("get", "/runs/{run_id}/logs"),
}


@pytest.fixture
def schema() -> dict:
    return Client().get(f"{API}/openapi.json").json()


def test_the_openapi_document_lists_every_operation(schema):
    found = {(method, path.removeprefix(API)) for path, item in schema["paths"].items() for method in item}

    assert schema["openapi"].startswith("3.")
    assert found == OPERATIONS


def test_every_operation_declares_its_refusals_and_both_ways_to_authenticate(schema):
    for item in schema["paths"].values():
        for operation in item.values():
            assert {"401", "403"} <= set(operation["responses"])
            assert operation["security"] == [{"BearerToken": []}, {"DashboardSession": []}]


def test_the_security_schemes_are_a_bearer_token_and_the_session_cookie(schema):
    assert schema["components"]["securitySchemes"] == {
        "BearerToken": {"type": "http", "scheme": "bearer"},
        "DashboardSession": {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME},
    }


def test_the_docs_page_loads_swagger_ui_from_this_site(db):
    response = Client().get(f"{API}/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<script src="{API}/docs/swagger-ui-bundle.js"></script>' in html
    assert "https://" not in html


def test_the_docs_page_allows_data_images_and_nothing_else_more_than_the_site(db):
    policy = Client().get(f"{API}/docs")["Content-Security-Policy"]

    assert "img-src 'self' data:" in policy
    assert "script-src 'self';" in policy
    assert "unsafe" not in policy


def test_the_docs_files_come_from_the_django_ninja_package(db):
    response = Client().get(f"{API}/docs/swagger-ui-bundle.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert response["Cache-Control"] == "public, max-age=86400"


def test_no_other_file_is_served_as_a_docs_file(db):
    assert Client().get(f"{API}/docs/..%2F..%2F__init__.py").status_code == 404
    assert Client().get(f"{API}/docs/redoc.standalone.js").status_code == 404


def test_a_logged_in_user_gets_the_csrf_token_for_the_docs_try_it_out(db):
    client = client_for(make_user("ann", *ALL_PERMS))

    html = client.get(f"{API}/docs").content.decode()

    assert 'data-api-csrf="true"' in html
    assert 'data-csrf-token=""' not in html


def test_an_anonymous_visitor_gets_no_csrf_token(db):
    html = Client().get(f"{API}/docs").content.decode()

    assert 'data-csrf-token="" data-api-csrf=""' in html


@pytest.mark.django_db(transaction=True)
def test_the_docs_page_renders_and_tries_a_request_without_a_csp_violation(live_server, monkeypatch):
    if not os.path.exists(CHROMIUM):
        reason = f"the docs page test needs Debian's Chromium at {CHROMIUM}"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    user = make_user("ann", *ALL_PERMS)
    session = client_for(user).cookies[settings.SESSION_COOKIE_NAME]
    # Playwright's sync API marks its event loop as running in this thread while it runs.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context()
            context.add_cookies([{"name": session.key, "value": session.value, "url": live_server.url}])
            page = context.new_page()
            page.add_init_script(
                "window.violations = [];"
                "document.addEventListener('securitypolicyviolation',"
                " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"
            )
            page.goto(f"{live_server.url}{API}/docs")
            page.get_by_text("List Flows").click()
            page.get_by_text("Try it out").click()
            page.get_by_text("Execute").click()
            status = page.locator(".live-responses-table .response .response-col_status").first
            status.wait_for()

            assert status.inner_text() == "200"
            assert page.evaluate("window.violations") == []
        finally:
            browser.close()
