"""Pre-event input in Chromium (docs/pre-event.md), as its people click through it: Amina
answers her room's question by keyboard; Eva, reading the room's board, sees it arrive without
reloading and endorses it (by keyboard: the focus stays on the button, which now says
"Endorsed"); the count changes on every open board and in the co-moderator's console, live;
Léa pins it into the room from the console's pre-event pane, and it appears pinned on the
room's page of a participant who has it open. Without JavaScript the board is a plain page
whose forms post and come back. axe finds no WCAG 2.1 AA violation on the board and the
answer form, on a laptop and at a phone's width. Screenshots: /tmp/shots/preevent-*.png."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, page_opener
from tests.e2e.keyboard import has_visible_focus, shot, tab_to

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "organiser": ("organiser@plenary.example", "plenary-organiser-demo"),
    "lea": ("moderator.lea@plenary.example", "plenary-moderator-demo"),
    "eva": ("eva.lindqvist@norrvik-uni.example", "plenary-participant-demo"),
    "amina": ("amina.diallo@passerelles-solidaires.example", "plenary-participant-demo"),
}
LAPTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
QUESTION = "What should the housing room discuss first?"
INPUT = "Shared flats near the tram line, with a mentor for the first month."


@pytest.fixture
def event(live_server) -> dict:
    """An event of the test's own starting tomorrow (so pre-event input is open) whose
    breakout room "Housing" has opened early: Léa co-moderates it, Eva and Amina are placed
    in it, and the organiser asks one question for it."""
    from forum.models.base import utcnow
    from forum.models.users import find_user_by_email
    from forum.services import event_setup, preevent, rooms

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ACCOUNTS["organiser"][0])
        starts = utcnow() + timedelta(days=1)
        created = event_setup.create_event(organiser, event_setup.EventInput(
            title=f"Welcome week {secrets.token_hex(3)}", starts_at=starts, ends_at=starts + timedelta(hours=3),
            assignment_mode="manual"))
        event_setup.publish_event(organiser, created)
        room = event_setup.add_room(organiser, created, event_setup.RoomInput(title="Housing"))
        event_setup.appoint_moderator(organiser, room, ACCOUNTS["lea"][0])
        for name in ("eva", "amina"):
            person = find_user_by_email(ACCOUNTS[name][0])
            event_setup.assign_member(organiser, event_setup.register(person, created), room)
        preevent.add_question(organiser, created, kind="discuss", label=QUESTION, room=room)
        rooms.set_phase(organiser, room, "open")
        return {"index": f"/events/{created.id}/pre-event", "board": f"/events/{created.id}/pre-event/boards/{room.id}",
                "room": f"/events/{created.id}/rooms/{room.id}"}


@pytest.fixture
def open_as(browser, live_server):
    """open_as(name, path, viewport=LAPTOP, live=True, javascript=True) -> that person's page
    on `path`, logged in (and live, when the page follows a stream)."""
    with page_opener(browser, live_server["url"]) as open_page:
        def open_as(name, path, viewport=LAPTOP, live=True, javascript=True):
            page = open_page(*ACCOUNTS[name], path if live and javascript else None, viewport=viewport,
                             javascript=javascript)
            if not (live and javascript):
                page.goto(live_server["url"] + path)
            return page
        yield open_as


def mark_loaded(page) -> None:
    """A mark that a reload would wipe: the page must still carry it after the live update."""
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_input_endorsed_live_then_pinned_into_the_room(open_as, event):
    eva_board = open_as("eva", event["board"])
    question = eva_board.get_by_role("region", name=QUESTION)
    expect(question.get_by_text("No answers yet.")).to_be_visible()
    mark_loaded(eva_board)

    # Amina answers her room's question by keyboard.
    amina = open_as("amina", event["index"], live=False)
    answer_field = amina.get_by_role("form", name=QUESTION).get_by_role("textbox", name="Your answer")
    tab_to(amina, answer_field)
    amina.keyboard.type(INPUT)
    tab_to(amina, amina.get_by_role("button", name="Save answer"))
    shot(amina, "preevent-answer-form")
    amina.keyboard.press("Enter")
    expect(amina.get_by_text("Your answer was saved.")).to_be_visible()
    expect(answer_field).to_have_value(INPUT)
    assert axe_violations(amina) == []
    amina.set_viewport_size(PHONE)
    shot(amina, "preevent-answer-form-phone")
    assert axe_violations(amina) == []
    assert amina.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    amina.set_viewport_size(LAPTOP)

    # On Eva's board it arrives by itself, with the count and a button to endorse it.
    item = question.get_by_role("listitem").filter(has_text=INPUT)
    expect(item).to_be_visible()
    expect(item).to_contain_text("Amina Diallo, Association Passerelles Solidaires (Migrant-led organisation)")
    expect(item).to_contain_text("0 endorsements")
    expect(question.get_by_text("No answers yet.")).to_have_count(0)
    assert not_reloaded(eva_board)

    # Amina reads the board too (no button on her own input); Léa opens the room: the console's
    # pre-event pane shows it.
    amina.get_by_role("link", name="Housing").click()
    expect(amina.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    amina_item = amina.get_by_role("listitem").filter(has_text=INPUT)
    expect(amina_item).to_contain_text("0 endorsements")
    expect(amina_item.get_by_role("button")).to_have_count(0)
    mark_loaded(amina)
    lea = open_as("lea", event["room"])
    lea.locator("[data-console-root]").get_by_role("tab", name=re.compile("^Pre-event input")).click()
    pane = lea.locator("#preevent")
    pane_item = pane.get_by_role("listitem").filter(has_text=INPUT)
    expect(pane_item).to_contain_text("0 endorsements")
    mark_loaded(lea)

    # Eva endorses it by keyboard: the focus stays on the button, which now says so.
    endorse = item.get_by_role("button", name="Endorse (Amina Diallo)")
    tab_to(eva_board, endorse)
    eva_board.keyboard.press("Enter")
    endorsed = item.get_by_role("button", name="Endorsed (Amina Diallo)")
    expect(endorsed).to_have_attribute("aria-pressed", "true")
    expect(endorsed).to_be_focused()
    assert has_visible_focus(eva_board)
    expect(item).to_contain_text("1 endorsement")
    shot(eva_board, "preevent-board-endorsed")
    assert not_reloaded(eva_board)

    # Everyone else's view follows, without reloading: Amina's board and Léa's console.
    expect(amina_item).to_contain_text("1 endorsement")
    expect(pane_item).to_contain_text("1 endorsement")
    assert not_reloaded(amina) and not_reloaded(lea)
    shot(lea, "preevent-console-pane", full_page=False)

    # Eva, in the room, sees it pinned as soon as Léa pins it from the console.
    eva_room = open_as("eva", event["room"])
    pinned = eva_room.locator("[data-pinned]")
    expect(pinned).to_be_hidden()
    pane_item.get_by_role("button", name="Pin in the room (Amina Diallo)").click()
    expect(lea.locator("#preevent").get_by_role("listitem").filter(has_text=INPUT)).to_contain_text(
        "Pinned in the room.")
    for page in (lea, eva_room):
        bar = page.locator("[data-pinned]")
        expect(bar).to_be_visible()
        expect(bar).to_contain_text(INPUT)
        expect(bar).to_contain_text("Amina Diallo, Association Passerelles Solidaires (Migrant-led organisation), "
                                     f"pre-event input to “{QUESTION}”")
    shot(eva_room, "preevent-pinned-in-room", full_page=False)


def test_withdrawing_an_endorsement_and_the_board_without_javascript(open_as, event):
    amina = open_as("amina", event["index"], live=False, javascript=False)
    amina.get_by_role("form", name=QUESTION).get_by_role("textbox", name="Your answer").fill(INPUT)
    amina.get_by_role("button", name="Save answer").click()
    expect(amina.get_by_text("Your answer was saved.")).to_be_visible()

    # Without JavaScript: the board as loaded; endorsing posts the form and comes back.
    eva = open_as("eva", event["board"], javascript=False)
    item = eva.get_by_role("listitem").filter(has_text=INPUT)
    expect(item).to_contain_text("0 endorsements")
    item.get_by_role("button", name="Endorse (Amina Diallo)").click()
    expect(item).to_contain_text("1 endorsement")
    expect(item.get_by_role("button", name="Endorsed (Amina Diallo)")).to_have_attribute("aria-pressed", "true")

    # With it, on a phone: withdrawing shows at once, and on the other board by itself.
    amina_board = open_as("amina", event["board"], viewport=PHONE)
    amina_item = amina_board.get_by_role("listitem").filter(has_text=INPUT)
    expect(amina_item).to_contain_text("1 endorsement")
    eva_live = open_as("eva", event["board"], viewport=PHONE)
    eva_item = eva_live.get_by_role("listitem").filter(has_text=INPUT)
    eva_item.get_by_role("button", name="Endorsed (Amina Diallo)").click()
    expect(eva_item.get_by_role("button", name="Endorse (Amina Diallo)")).to_have_attribute("aria-pressed", "false")
    expect(eva_item).to_contain_text("0 endorsements")
    expect(amina_item).to_contain_text("0 endorsements")
    shot(eva_live, "preevent-board-phone")
    assert axe_violations(eva_live) == []
    assert eva_live.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    eva_live.set_viewport_size(LAPTOP)
    assert axe_violations(eva_live) == []
    shot(eva_live, "preevent-board")

