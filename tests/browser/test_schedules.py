import re

import pytest
from playwright.sync_api import Page, expect

from schedules.models import Schedule
from tests.factories import EXAMPLE, make_flow

pytestmark = pytest.mark.django_db(transaction=True)

# Sundays in March and October at 02:30: from any date, the next five include the last Sunday
# of March or of October, when Europe/Berlin's clocks change.
SUNDAYS = "30 2 * 3,10 0"


def test_typing_a_cron_and_a_zone_previews_the_due_times_and_saving_lists_the_schedule(
    operator_page: Page, live_server
):
    page = operator_page
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    flow = make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")
    page.click("#add-schedule-button")
    preview = page.locator("#schedule-preview")

    page.locator("#schedule-cron").fill("61 * * * *")
    expect(preview.locator("#preview-problem")).to_contain_text("invalid cron expression")

    page.locator("#schedule-cron").fill(SUNDAYS)
    page.locator("#schedule-timezone").fill("Europe/Berlin")
    expect(preview).to_contain_text("The next 5 due times in Europe/Berlin")
    expect(preview.locator("li")).to_have_count(5)
    expect(preview.locator(".dst-note").first).to_contain_text(
        re.compile(r"02:30 (does not exist|happens twice) in Europe/Berlin")
    )

    page.locator("#schedule-note").fill("<b>the monthly close</b>")
    page.click("#save-schedule")

    expect(page.locator("#messages")).to_contain_text("added: next due ")
    schedule = Schedule.objects.get()
    assert page.url.endswith(f"/flows/example/#schedule-{schedule.pk}")
    listed = page.locator(f"#schedule-{schedule.pk}")
    expect(listed.locator("code.cron")).to_have_text(SUNDAYS)
    expect(listed.locator(".zone")).to_have_text("Europe/Berlin")
    expect(listed.locator(".schedule-note")).to_have_text("<b>the monthly close</b>")
    expect(listed.locator(".due-times li")).to_have_count(5)
    assert (schedule.flow_id, schedule.timezone) == (flow.pk, "Europe/Berlin")
    assert errors == [], errors
