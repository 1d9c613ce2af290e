"""Counted texts that the page's script writes take the reader's plural forms: an Italian
reader alone on a consultation reads "1 presente ora", then "2 presenti ora"."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
ITALIAN_READERS = ["giulia.ferraresi@regione-lunigiana-est.example", "marco.bellandi@pontiaperti.example"]
PASSWORD = "plenary-participant-demo"


def open_consultation(browser, live_server, email, path=None):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="it-IT")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.goto(live_server["url"] + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.auth-form button[type=submit], main form button[type=submit]").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    if path is None:
        page.goto(live_server["url"] + "/?phase=open")
        page.locator(".consultation-card .card-title a").first.click()
    else:
        page.goto(live_server["url"] + path)
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    return context, page


def test_people_here_are_counted_in_italian_plural_forms(browser, live_server):
    contexts = []
    try:
        context, first = open_consultation(browser, live_server, ITALIAN_READERS[0])
        contexts.append(context)
        count = first.locator("[data-presence-count]")
        expect(count).to_have_text("1 presente ora")
        path = first.url.split(live_server["url"], 1)[1]
        context, second = open_consultation(browser, live_server, ITALIAN_READERS[1], path)
        contexts.append(context)
        expect(count).to_have_text("2 presenti ora")
        expect(second.locator("[data-presence-count]")).to_have_text("2 presenti ora")
        screenshot(first, "plurals-italian-presence")
        errors = first.console_errors + second.console_errors
        contexts.pop().close()
        expect(count).to_have_text("1 presente ora")
        assert errors == []
    finally:
        for context in contexts:
            context.close()
