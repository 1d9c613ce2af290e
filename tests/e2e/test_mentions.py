"""Mentions in Chromium, on a demo server of its own (these tests post): "@" and letters in a
composer offer people in an ARIA combobox, the keyboard chooses one, and the message posted
shows the mention as a link to the person's page (docs/mentions.md)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, page_opener, screenshot, serve_demo
from tests.e2e.test_breakout import MODERATOR_PASSWORD, PARTICIPANT_PASSWORD, ROOM_TITLE
from tests.e2e.test_room_keyboard import path_of

pytestmark = pytest.mark.e2e
AMINA = ("amina.diallo@passerelles-solidaires.example", PARTICIPANT_PASSWORD)
LEA = ("moderator.lea@plenary.example", MODERATOR_PASSWORD)


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_database):
    """The demo, with Anna Rossi (handle anna.rossi) registered; the path of an open public
    consultation and of room 3."""
    with serve_demo(tmp_path_factory.mktemp("mentions"), demo_database) as running:
        with live_app(running["database_url"]):
            from sqlalchemy import select

            from forum.extensions import db
            from forum.models import Consultation
            from forum.models.consultations import ConsultationStatus, Visibility
            from forum.services import accounts

            anna = accounts.register("anna.rossi@example.org", "anna-rossi-password", accounts.Profile(
                display_name="Anna Rossi", organisation="Comune di Bologna", organisation_type="local_authority",
                country="IT"))
            running["anna_id"] = anna.id
            consultation = db.session.scalar(select(Consultation).where(
                Consultation.status == ConsultationStatus.OPEN, Consultation.visibility == Visibility.PUBLIC)
                .order_by(Consultation.id))
            running["consultation"] = f"/consultations/{consultation.id}"
        running["room"] = path_of(running["demo_output"], rf"Room 3: {re.escape(ROOM_TITLE)} \(Open\)")
        yield running


def choose_by_keyboard(page, area, handle: str) -> None:
    """With the list open, Down until the active option is `handle`'s, checking the
    combobox's state on the way, then Enter."""
    listbox = page.locator(f"#{area.get_attribute('aria-controls')}")
    expect(area).to_have_attribute("aria-expanded", "true")
    expect(listbox).to_be_visible()
    expect(listbox).to_have_attribute("role", "listbox")
    options = listbox.get_by_role("option")
    count = options.count()
    assert 1 <= count <= 8
    expect(page.locator("[role=status]", has_text=re.compile(rf"^{count} (person|people) to mention"))).to_have_count(1)
    for _ in range(count):
        active = area.get_attribute("aria-activedescendant")
        if page.locator(f"#{active}").inner_text().find(f"@{handle}") >= 0:
            expect(page.locator(f"#{active}")).to_have_attribute("aria-selected", "true")
            area.press("Enter")
            return
        area.press("ArrowDown")
        expect(area).not_to_have_attribute("aria-activedescendant", active)
    raise AssertionError(f"@{handle} was not offered")


def test_a_response_mentions_someone_chosen_by_keyboard(browser, server):
    with page_opener(browser, server["url"]) as open_page:
        page = open_page(*AMINA, server["consultation"])
        area = page.get_by_label("Your response")
        expect(area).to_have_attribute("role", "combobox")
        expect(area).to_have_attribute("aria-autocomplete", "list")
        expect(area).to_have_attribute("aria-expanded", "false")

        area.press_sequentially("Thank you @an")
        choose_by_keyboard(page, area, "anna.rossi")

        expect(area).to_have_value("Thank you @anna.rossi ")
        expect(area).to_have_attribute("aria-expanded", "false")
        area.press_sequentially("for the figures. Ask @an")
        expect(area).to_have_attribute("aria-expanded", "true")
        area.press("Escape")  # closes without choosing, and the text stays as typed
        expect(area).to_have_attribute("aria-expanded", "false")
        expect(area).to_have_value("Thank you @anna.rossi for the figures. Ask @an")
        assert axe_violations(page) == []
        screenshot(page, "mentions-typed")

        page.locator("#topic_id").select_option(index=1)
        page.locator("form:has(#topic_id) button[type=submit]").click()

        link = page.locator(f'a.mention[href="/people/{server["anna_id"]}"]', has_text="@anna.rossi")
        expect(link.first).to_be_visible()
        link.first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Anna Rossi")
        expect(page.get_by_text("Comune di Bologna")).to_be_visible()


def test_a_room_message_mentions_by_keyboard_and_mouse(browser, server):
    """In the room, Enter chooses while the list is open and sends the message after; only
    the room's readers are offered (Amina is in another room)."""
    with page_opener(browser, server["url"]) as open_page:
        page = open_page(*LEA, server["room"])
        area = page.locator("textarea[data-mentions]")
        area.press_sequentially("Welcome @amina")
        expect(page.locator("[role=status]", has_text="No one here matches.")).to_have_count(1)
        expect(area).to_have_attribute("aria-expanded", "false")
        area.fill("")
        area.press_sequentially("Welcome @ev")
        choose_by_keyboard(page, area, "eva.lindqvist")
        expect(area).to_have_value("Welcome @eva.lindqvist ")
        area.press_sequentially("and @dim")
        listbox = page.locator(f"#{area.get_attribute('aria-controls')}")
        listbox.get_by_role("option").first.click()  # a pointer chooses too
        expect(area).to_be_focused()
        value = area.input_value()
        assert re.fullmatch(r"Welcome @eva\.lindqvist and @dimitris[\w.-]* ", value), value
        area.press("Enter")  # the list is closed: Enter sends

        message = page.locator("[data-message-list] li", has_text="Welcome").last
        expect(message.locator("a.mention", has_text="@eva.lindqvist")).to_have_attribute(
            "href", re.compile(r"^/people/\d+$"))
        expect(message.locator("a.mention")).to_have_count(2)
