"""The search journey in Chromium: the header's box, the results page (its count announced,
matches marked, no serious accessibility violation), a result opened; with and without
JavaScript (the page is a plain GET form)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, new_page, screenshot


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_visitor_finds_every_response_about_childcare_and_opens_one(browser, live_server, javascript):
    context, page = new_page(browser, javascript=javascript)
    try:
        page.goto(live_server["url"] + "/")
        box = page.get_by_role("search", name="Search Plenary").get_by_label("Words to find")
        box.fill("childcare")
        box.press("Enter")

        expect(page).to_have_url(re.compile(r"/search\?q=childcare$"))
        count = page.locator("#search-count")
        expect(count).to_have_text(re.compile(r"^\d+ results? for “childcare”"))
        assert count.get_attribute("role") == "status"
        results = page.locator("li.search-hit")
        expect(results.first).to_be_visible()
        assert results.count() >= 2
        expect(results.first.locator("mark").first).to_have_text(re.compile(r"^childcare", re.IGNORECASE))
        if javascript:
            assert axe_violations(page) == []
            screenshot(page, "search-results")

        first = results.first.locator("h3 a")
        target = first.get_attribute("href")
        first.click()
        expect(page).to_have_url(re.compile(re.escape(target.split("#")[0])))
        expect(page.get_by_text(re.compile(r"childcare", re.IGNORECASE)).first).to_be_visible()
        assert page.console_errors == []
    finally:
        context.close()


def test_filters_and_order_by_keyboard(browser, live_server):
    context, page = new_page(browser)
    try:
        page.goto(live_server["url"] + "/search?q=childcare")
        page.get_by_text("Filters and order").click()
        page.get_by_label("Order").select_option("newest")
        page.get_by_label("Kind").select_option("post")
        page.get_by_role("button", name="Apply").press("Enter")

        expect(page).to_have_url(re.compile(r"sort=newest"))
        expect(page.get_by_label("Order")).to_have_value("newest")
        kinds = page.locator("li.search-hit .search-kind").all_inner_texts()
        assert kinds and set(kinds) <= {"Response", "Reply"}
        assert axe_violations(page) == []
    finally:
        context.close()
