"""Wide tables on a phone (390 px): the page itself never scrolls sideways; each table scrolls
in a region of its own, named by the table's caption, that a keyboard user can focus and
scroll. Screenshots in test-artifacts/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, screenshot

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def organiser_on_a_phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.goto(live_server["url"] + "/login")
    page.get_by_label("Email address").fill("organiser@plenary.example")
    page.get_by_label("Password").fill("plenary-organiser-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    yield page
    errors = page.console_errors
    context.close()
    assert errors == [], f"the browser console reported errors: {errors}"


def demo_event_id(demo_output: str) -> int:
    match = re.search(r"Plenary: http://\S+/events/(\d+)/", demo_output)
    assert match, demo_output
    return int(match.group(1))


@pytest.mark.parametrize("page_name, path", [("people", "/events/{id}/people"), ("log", "/events/{id}/log")])
def test_wide_tables_scroll_in_a_focusable_region_of_their_own(organiser_on_a_phone, live_server, page_name, path):
    page = organiser_on_a_phone
    page.goto(live_server["url"] + path.format(id=demo_event_id(live_server["demo_output"])))
    screenshot(page, f"small-screen-{page_name}-390")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tables = page.locator("main table")
    assert tables.count() >= 1
    for i in range(tables.count()):
        table = tables.nth(i)
        caption = table.locator("caption").inner_text().strip()
        region = page.get_by_role("region", name=caption, exact=True)
        expect(region).to_have_count(1)
        assert region.evaluate("(el, table) => el.contains(table)", table.element_handle())
        box = region.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        if region.evaluate("el => el.scrollWidth > el.clientWidth"):
            region.focus()
            assert region.evaluate("el => el === document.activeElement")
            page.keyboard.press("ArrowRight")
            page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle())
    assert axe_violations(page) == []
