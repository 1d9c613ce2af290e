"""The organisers' control room in Chromium: the organiser watches every room of a running
event (made for this test) while a participant writes in one; the room's row counts the
message live; closing and reopening a room from the control room comes back to it; axe-core
finds nothing serious; screenshots at 1280 and 390 px (test-artifacts/ and /tmp/shots/), and on
a phone the table scrolls sideways inside its region with the room's name kept in view."""
from __future__ import annotations

import secrets
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, axe_violations, live_app, log_in, new_page, screenshot

pytestmark = pytest.mark.e2e
ORGANISER = ("organiser@plenary.example", "plenary-organiser-demo")
PARTICIPANT = ("eva.lindqvist@norrvik-uni.example", "plenary-participant-demo")
ROOM_TITLE = "Language learning and community life"
OTHER_ROOM_TITLE = "Housing and first reception"
SHOTS = Path("/tmp/shots")


@pytest.fixture
def control_event(live_server) -> dict:
    """A running event of this test's own: plenary and two breakout rooms open, Eva placed in
    ROOM_TITLE."""
    from forum.models.base import utcnow
    from forum.models.users import find_user_by_email
    from forum.services import event_setup, posts, rooms

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ORGANISER[0])
        now = utcnow()
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=f"Control room {secrets.token_hex(3)}", starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2), assignment_mode="manual"))
        event_setup.publish_event(organiser, event)
        room = event_setup.add_room(organiser, event, event_setup.RoomInput(title=ROOM_TITLE))
        other = event_setup.add_room(organiser, event, event_setup.RoomInput(title=OTHER_ROOM_TITLE))
        eva = find_user_by_email(PARTICIPANT[0])
        member = event_setup.register(eva, event)
        event_setup.assign_member(organiser, member, room)
        for opened in (event.plenary, room, other):
            rooms.set_phase(organiser, opened, "open")
        said = posts.post_in_room(eva, event.plenary, body="Could the plenary start later?")
        return {"event_id": event.id, "room_id": room.id, "other_id": other.id, "plenary_id": event.plenary.id,
                "plenary_post": said.id,
                "control": f"/events/{event.id}/control", "room": f"/events/{event.id}/rooms/{room.id}"}


def logged_in(browser, live_server, account, width=1280, height=900):
    context, page = new_page(browser, viewport={"width": width, "height": height})
    log_in(page, live_server["url"], *account)
    return context, page


def keep_shot(page, name: str) -> None:
    screenshot(page, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / f"{name}.png", SHOTS / f"{name}.png")


def row(page, room_id: int):
    return page.locator(f'tr[data-room-row="{room_id}"]')


def test_the_organiser_watches_a_room_come_alive_and_closes_it(browser, live_server, control_event):
    url = live_server["url"]
    organiser_context, organiser = logged_in(browser, live_server, ORGANISER)
    participant_context, participant = logged_in(browser, live_server, PARTICIPANT)
    try:
        organiser.goto(url + control_event["control"])
        expect(organiser.get_by_role("heading", name="Control room", level=1)).to_be_visible()
        expect(organiser.locator("[data-live-status]")).to_have_attribute("data-state", "live")
        room_row = row(organiser, control_event["room_id"])
        expect(room_row.locator('[data-cell="recent"]')).to_have_text("0")
        expect(room_row.locator('[data-cell="present"]')).to_have_text("0")

        # Eva opens her room (present: 1) and writes in it, through the room's own form.
        participant.goto(url + control_event["room"])
        expect(room_row.locator('[data-cell="present"]')).to_have_text("1")
        csrf = participant.locator('meta[name="csrf-token"]').get_attribute("content")
        answer = participant.request.post(url + control_event["room"] + "/messages",
                                          form={"csrf_token": csrf, "body": "Evening classes would help me"},
                                          max_redirects=0)
        assert answer.status in (302, 303), answer.status
        expect(room_row.locator('[data-cell="recent"]')).to_have_text("1")
        expect(room_row.locator('[data-cell="balance"]')).to_have_text("0.00")  # one speaker: even
        assert organiser.url == url + control_event["control"]  # live: the page was not reloaded

        # A report on the plenary's message: its row is marked, and the change is said politely.
        plenary_row = row(organiser, control_event["plenary_id"])
        expect(plenary_row).not_to_have_class("needs-attention")
        csrf = organiser.locator('meta[name="csrf-token"]').get_attribute("content")
        answer = organiser.request.post(f"{url}/posts/{control_event['plenary_post']}/flag",
                                        form={"csrf_token": csrf, "reason": "Off topic"}, max_redirects=0)
        assert answer.status in (302, 303), answer.status
        expect(plenary_row).to_have_class("needs-attention")
        expect(plenary_row.locator('[data-cell="flags"]')).to_have_text("1")
        expect(plenary_row.get_by_text("Reported messages")).to_be_visible()
        expect(organiser.locator("[data-live-announcer]")).to_contain_text("Plenary: a message was reported")
        assert axe_violations(organiser) == []
        # On a laptop the whole table is in view: no sideways scrolling.
        region = organiser.get_by_role("region", name="Every room with its figures")
        assert region.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table is wider than its region"
        keep_shot(organiser, "control-1280")

        # Close the other room from here, and open it again: each time back to the control room.
        other_row = row(organiser, control_event["other_id"])
        other_row.get_by_role("button", name=f"Close {OTHER_ROOM_TITLE}").click()
        expect(organiser).to_have_url(url + control_event["control"])
        expect(other_row.locator('[data-cell="phase"]')).to_have_text("Closed")
        expect(other_row.get_by_role("button", name=f"Close {OTHER_ROOM_TITLE}")).to_be_hidden()
        other_row.get_by_role("button", name=f"Open {OTHER_ROOM_TITLE}").click()
        expect(organiser).to_have_url(url + control_event["control"])
        expect(other_row.locator('[data-cell="phase"]')).to_have_text("Open")
        expect(organiser.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    finally:
        errors = organiser.console_errors + participant.console_errors
        organiser_context.close()
        participant_context.close()
    assert errors == []


def test_on_a_phone_the_table_scrolls_with_the_room_names_in_view(browser, live_server, control_event):
    context, page = logged_in(browser, live_server, ORGANISER, width=390, height=844)
    try:
        page.goto(live_server["url"] + control_event["control"])
        expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself does not scroll
        region = page.get_by_role("region", name="Every room with its figures")
        name = row(page, control_event["room_id"]).locator("th")
        before = name.bounding_box()
        region.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        assert region.evaluate("el => el.scrollLeft") > 100  # there was more to see sideways
        after = name.bounding_box()
        assert abs(after["x"] - before["x"]) < 1 and after["x"] >= 0  # the room's name stayed put
        keep_shot(page, "control-390")
        region.evaluate("el => { el.scrollLeft = 0; }")
        assert axe_violations(page) == []
    finally:
        errors = page.console_errors
        context.close()
    assert errors == []
