"""A room as a chat, in Chromium, on a demo server of its own with 120 more messages in room 3:
the message box stays in view (after loading, scrolling the messages and sending) at 1280 and
390 px, the newest message is in view, the moderators' grid does not scroll the page, the
message box is three Tab presses away, messages are grouped by author, "Load earlier" puts the
previous 50 above without moving what the reader sees, a reader who scrolled up is not
yanked down by new messages, and axe finds nothing. Screenshots: /tmp/shots/chat-*.png."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, open_actions, page_opener, serve_demo
from tests.e2e.test_breakout import MODERATOR_PASSWORD, PARTICIPANT_PASSWORD, ROOM_TITLE
from tests.e2e.test_room_keyboard import path_of, tab_presses_to_the_message_box

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots")
ACCOUNTS = {
    "lea": ("moderator.lea@plenary.example", MODERATOR_PASSWORD),
    "eva": ("eva.lindqvist@norrvik-uni.example", PARTICIPANT_PASSWORD),
}
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
MESSAGES = "[data-message-list][data-prefix='post-'] > li.message"


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_database):
    with serve_demo(tmp_path_factory.mktemp("room-chat"), demo_database) as running:
        running["room"] = path_of(running["demo_output"], rf"Room 3: {re.escape(ROOM_TITLE)} \(Open\)")
        room_id = int(running["room"].rsplit("/", 1)[1])
        with live_app(running["database_url"]):
            from sqlalchemy import select

            from forum.extensions import db
            from forum.models import EventMember, Room
            from forum.models.events import MemberRole
            from forum.models.users import find_user_by_email
            from forum.services import posts

            room = db.session.get(Room, room_id)
            eva = find_user_by_email(ACCOUNTS["eva"][0])
            other = db.session.scalars(select(EventMember).where(
                EventMember.room_id == room_id, EventMember.user_id != eva.id,
                EventMember.role == MemberRole.PARTICIPANT)).first().user
            for n in range(120):  # runs of two by Eva, one by someone else
                posts.post_in_room((eva, eva, other)[n % 3], room, body=f"Backlog message {n}.")
        yield running


@pytest.fixture
def open_room(browser, server):
    """open_room(name, viewport) -> that person's page on room 3, logged in, live."""
    with page_opener(browser, server["url"]) as open_page:
        yield lambda name, viewport=LAPTOP: open_page(*ACCOUNTS[name], server["room"], viewport=viewport)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"chat-{name}.png"))


def box_in_viewport(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"] + 1, (selector, box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"] + 1, (selector, box, size)


def page_does_not_scroll(page) -> None:
    assert page.evaluate("() => document.scrollingElement.scrollHeight <= window.innerHeight + 1"), \
        page.evaluate("""() => [document.scrollingElement.scrollHeight, window.innerHeight,
            [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().bottom > innerHeight + 1
              && el.getBoundingClientRect().height > 0
              && !el.parentElement.closest('.room-feed, .room-aside'))
              .slice(0, 8).map(el => el.tagName + '.' + el.className + '#' + el.id
                                     + ' ' + Math.round(el.getBoundingClientRect().bottom))]""")


def scroll_messages_up(page, pixels: int = 1500) -> None:
    page.evaluate("(px) => document.querySelector('[data-feed]').scrollBy(0, -px)", pixels)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280", "390"])
def test_a_participant_chats_with_the_box_always_in_view(open_room, viewport):
    eva = open_room("eva", viewport)
    width = viewport["width"]
    expect(eva.locator(MESSAGES)).to_have_count(50)  # of more than 120
    expect(eva.locator(MESSAGES).last).to_be_in_viewport()
    box_in_viewport(eva, "#body")
    box_in_viewport(eva, "[data-phase-label]")
    page_does_not_scroll(eva)
    shot(eva, f"participant-{width}")

    scroll_messages_up(eva)
    expect(eva.locator(MESSAGES).last).not_to_be_in_viewport()
    box_in_viewport(eva, "#body")
    box_in_viewport(eva, "[data-phase-label]")
    assert eva.evaluate("() => window.scrollY") == 0

    text = f"Sent from a {width} px screen."
    eva.get_by_label("Your message").fill(text)
    eva.get_by_label("Your message").press("Enter")
    sent = eva.locator(MESSAGES, has_text=text)
    expect(sent).to_be_in_viewport()  # one's own message brings the discussion down to it
    expect(eva.get_by_label("Your message")).to_be_focused()
    expect(eva.get_by_label("Your message")).to_have_value("")
    box_in_viewport(eva, "#body")
    page_does_not_scroll(eva)
    shot(eva, f"participant-{width}-sent")
    # Never announced to oneself.
    assert "Sent from" not in (eva.locator("[data-live-announcer]").text_content() or "")


def test_the_room_page_passes_axe_and_the_box_is_three_tabs_away(open_room):
    eva = open_room("eva")
    assert axe_violations(eva) == []
    assert tab_presses_to_the_message_box(eva) <= 3
    lea = open_room("lea")
    assert axe_violations(lea) == []
    assert tab_presses_to_the_message_box(lea) <= 3


def test_messages_of_one_author_are_grouped_under_one_name(open_room):
    eva = open_room("eva")
    grouped = eva.locator(MESSAGES + ".message-grouped")
    expect(grouped.first).to_be_attached()
    facts = eva.evaluate("""(sel) => [...document.querySelectorAll(sel)].map(li => ({
        grouped: li.classList.contains('message-grouped'),
        sameAsBefore: !!li.previousElementSibling && li.previousElementSibling.dataset.author === li.dataset.author,
        nameShown: li.querySelector('.message-author').getBoundingClientRect().width > 1,
        name: li.querySelector('.message-author').textContent.trim(),
    }))""", MESSAGES)
    assert [f["grouped"] for f in facts] == [f["sameAsBefore"] for f in facts]
    assert all(f["nameShown"] != f["grouped"] for f in facts)
    # The article keeps its accessible name: the author's, even when the line is not shown.
    last_grouped = grouped.last.locator("article")
    expect(last_grouped).to_have_accessible_name(re.compile("Eva"))
    # Times are the time of day, the date on hover.
    time = eva.locator(MESSAGES).last.locator(".message-time")
    expect(time.locator(".message-clock")).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    expect(time).to_have_attribute("title", re.compile(r"\d{4}"))


def test_load_earlier_puts_the_previous_50_above_and_keeps_the_place(open_room):
    eva = open_room("eva")
    first = eva.locator(MESSAGES).first
    first_id = first.get_attribute("id")
    eva.evaluate("() => { const f = document.querySelector('[data-feed]'); f.scrollTop = -f.scrollHeight; }")
    expect(eva.locator(f"#{first_id}")).to_be_in_viewport()
    eva.evaluate("() => { window.notReloaded = true; }")
    eva.locator("[data-load-earlier]").click()
    expect(eva.locator(MESSAGES)).to_have_count(100)
    assert eva.locator(MESSAGES).first.get_attribute("id") != first_id
    expect(eva.locator(f"#{first_id}")).to_be_in_viewport()
    assert eva.evaluate("() => window.notReloaded === true")  # prepended, not a new page
    box_in_viewport(eva, "#body")
    shot(eva, "load-earlier")


def test_a_reader_who_scrolled_up_is_not_yanked_down(open_room):
    eva, lea = open_room("eva"), open_room("lea")
    scroll_messages_up(eva, 800)
    anchor = eva.evaluate("""() => {
        const feed = document.querySelector('[data-feed]').getBoundingClientRect();
        const li = [...document.querySelectorAll('[data-message-list][data-prefix="post-"] > li')]
            .find(li => li.getBoundingClientRect().bottom > feed.top + 40);
        return {id: li.id, top: li.getBoundingClientRect().top};
    }""")
    for n in range(3):
        lea.locator("#body").fill(f"Moderator's point {n}.")
        lea.locator("#body").press("Enter")
        expect(lea.locator(MESSAGES, has_text=f"Moderator's point {n}.")).to_be_visible()
    expect(eva.locator(MESSAGES, has_text="Moderator's point 2.")).to_be_attached()
    button = eva.locator("[data-new-messages]")
    expect(button).to_be_visible()
    top = eva.evaluate("(id) => document.getElementById(id).getBoundingClientRect().top", anchor["id"])
    assert abs(top - anchor["top"]) <= 2, (top, anchor)
    # Announced politely, not one by one once several came together.
    expect(eva.locator("[data-live-announcer]")).to_have_text(re.compile(r"new message", re.IGNORECASE))
    shot(eva, "new-messages")
    button.click()
    expect(eva.locator(MESSAGES, has_text="Moderator's point 2.")).to_be_in_viewport()
    expect(button).to_be_hidden()
    assert eva.evaluate("() => document.activeElement !== document.body")


def test_deleting_ones_message_keeps_the_focus_in_the_discussion(open_room):
    eva = open_room("eva")
    eva.get_by_label("Your message").fill("A message to take back.")
    eva.get_by_label("Your message").press("Enter")
    mine = eva.locator(MESSAGES, has_text="A message to take back.")
    expect(mine).to_be_visible()
    open_actions(mine)
    mine.get_by_role("button", name="Delete").focus()
    eva.keyboard.press("Enter")
    expect(mine.locator(".post-body")).to_have_count(0)
    assert eva.evaluate("() => document.activeElement !== document.body"
                        " && !!document.activeElement.closest('[data-message-list]')")


def test_the_moderators_grid_fills_the_screen_without_scrolling_the_page(open_room):
    lea = open_room("lea")
    page_does_not_scroll(lea)
    box_in_viewport(lea, "#body")
    aside = lea.locator("aside.room-aside[data-console]")
    chat = lea.locator(".room-chat").bounding_box()
    side = aside.bounding_box()
    assert side["x"] >= chat["x"] + chat["width"] - 1  # side by side
    assert side["y"] + side["height"] <= 801 and chat["y"] + chat["height"] <= 801
    expect(lea.locator(MESSAGES).last).to_be_in_viewport()
    shot(lea, "moderator-1280")

    lea.set_viewport_size(PHONE)
    tabs = lea.get_by_role("navigation", name="Parts of this room")
    expect(tabs).to_be_visible()
    expect(aside).to_be_hidden()
    box_in_viewport(lea, "#body")
    tabs.get_by_role("link", name="Moderation").click()
    expect(aside).to_be_visible()
    expect(lea.locator(".room-chat")).to_be_hidden()
    shot(lea, "moderator-390-console")
    tabs.get_by_role("link", name="Discussion").click()
    expect(lea.locator(".room-chat")).to_be_visible()
    box_in_viewport(lea, "#body")
    shot(lea, "moderator-390-chat")
