"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live
server, with runs executed by a real `manage.py db_worker` process on the test database."""

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.factories import ALL_PERMS, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A worker process boots Django before it takes a run; the pages poll every 1-2 s.
WORKER_TIMEOUT = 30_000


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    # Never download a browser: use the system's, or say plainly why these tests did not run.
    if not os.path.exists(CHROMIUM):
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="package")
def playwright():
    # Playwright's sync API leaves its event loop marked as running in this thread, and
    # Django then refuses ORM calls from the test body. Package scope stops Playwright
    # (and lifts the allowance) before the rest of the suite runs.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as pw:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield pw


@pytest.fixture(scope="package")
def browser(playwright, browser_type_launch_args):
    browser = playwright.chromium.launch(**browser_type_launch_args)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args() -> dict:
    return {"viewport": {"width": 1280, "height": 900}, "timezone_id": "Europe/Paris"}


def log_in(context: BrowserContext, live_server, user: User) -> None:
    """Give the browser a session cookie, as the login form would (faster than typing)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def operator(db) -> User:
    return make_user("operator", *ALL_PERMS)


@pytest.fixture
def operator_page(page: Page, live_server, operator) -> Page:
    log_in(page.context, live_server, operator)
    return page
