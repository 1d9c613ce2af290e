"""Polls live in Chromium: a moderator launches a poll in a breakout room and it appears for the
participant without a reload; the participant votes by keyboard alone and both see the
results change live, rebuilt as the server renders them; a reader who may see the results
only once they voted sees none until they do. Every wait is on a condition (30 s bound)."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import live_app, room_path, screenshot, signed_in_pages
from tests.e2e.test_breakout import MODERATOR_PASSWORD, PARTICIPANT_PASSWORD

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "lea": ("moderator.lea@plenary.example", MODERATOR_PASSWORD),
    "eva": ("eva.lindqvist@norrvik-uni.example", PARTICIPANT_PASSWORD),
    "amina": ("amina.diallo@passerelles-solidaires.example", PARTICIPANT_PASSWORD),
}


@pytest.fixture
def room_with_polls(live_server):
    """A running event of the test's own: one breakout room, Léa co-moderating it, Eva and Amina
    placed in it; three draft polls of Léa's there (results shown live / after voting / after
    closing): the room shows no poll yet."""
    from forum.models.base import utcnow
    from forum.models.users import find_user_by_email
    from forum.services import event_setup, rooms
    from forum.services import polls as poll_service

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email("organiser@plenary.example")
        lea = find_user_by_email(ACCOUNTS["lea"][0])
        now = utcnow()
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=f"Polls round {secrets.token_hex(3)}", starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2), assignment_mode="manual"))
        event_setup.publish_event(organiser, event)
        room = event_setup.add_room(organiser, event, event_setup.RoomInput(title="Skills and training"))
        event_setup.appoint_moderator(organiser, room, lea.email)
        for name in ("eva", "amina"):
            member = event_setup.register(find_user_by_email(ACCOUNTS[name][0]), event)
            event_setup.assign_member(organiser, member, room)
        for opened in (event.plenary, room):
            rooms.set_phase(organiser, opened, "open")
        live = poll_service.create_poll(lea, room, {"kind": "single", "question": "Which first step?",
                                                    "results_shown": "live"},
                                        ["Language courses", "Recognition of diplomas", "Childcare"])
        after_vote = poll_service.create_poll(lea, room, {"kind": "single", "question": "Meet again in May?",
                                                          "results_shown": "after_vote"}, ["Yes", "No"])
        after_close = poll_service.create_poll(lea, room, {"kind": "single", "question": "A longer break?",
                                                           "results_shown": "after_close"}, ["Yes", "No"])
        return {"room_path": room_path(room), "live": live.id,
                "after_vote": after_vote.id, "after_close": after_close.id}


@pytest.fixture
def people(browser, live_server):
    with signed_in_pages(browser, live_server["url"], ACCOUNTS) as pages:
        yield pages


def tab_to(page, selector: str, limit: int = 200) -> None:
    """Tab (as a keyboard user does) until `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached in {limit} Tab presses")


def mark(page) -> None:
    """Mark the page's window: a reload (or a navigation) loses the mark."""
    page.evaluate("() => { window.plenaryTestMark = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.plenaryTestMark === true")


def results(page):
    return page.locator("section.poll-results")


def row(page, option: str):
    votes = results(page).locator("table.poll-table").first  # the breakdowns' tables follow, for Léa
    return votes.locator("tbody tr", has=page.get_by_role("rowheader", name=option, exact=True))


def as_the_server_renders(page, poll_id: int) -> str:
    """The results table as the server renders it for this reader now (its results fragment)."""
    return page.evaluate("""async (id) => {
        const html = await (await fetch(`/polls/${id}/results`, {credentials: "same-origin"})).text();
        const t = document.createElement("template");
        t.innerHTML = html.trim();
        return t.content.querySelector("table.poll-table").outerHTML;
    }""", poll_id)


def test_a_launched_poll_appears_and_a_keyboard_vote_updates_both_browsers(live_server, room_with_polls, people):
    lea, eva = people["lea"], people["eva"]
    base = live_server["url"]
    poll_id = room_with_polls["live"]
    asked = []  # what Eva's page asks the server for
    eva.on("request", lambda request: asked.append(urlsplit(request.url).path))
    eva.goto(base + room_with_polls["room_path"])
    expect(eva.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    expect(eva.locator(f"#poll-card-{poll_id}")).to_have_count(0)
    expect(eva.locator("#polls")).to_be_hidden()  # no poll yet: the panel waits, hidden
    mark(eva)

    # Léa launches the poll from its page; she stays there and sees its results (none yet).
    lea.goto(f"{base}/polls/{poll_id}")
    lea.get_by_role("button", name="Open the poll").click()
    expect(lea.locator(".poll-head .badge")).to_have_text("Open")
    expect(results(lea).locator("[data-voters-text]")).to_contain_text("0 voters")

    # It appears in Eva's room without a reload, announced.
    card = eva.locator(f"#poll-card-{poll_id}")
    expect(card).to_be_visible()
    expect(eva.get_by_role("heading", name="Polls")).to_be_visible()
    assert not_reloaded(eva)
    expect(card).to_contain_text("Which first step?")
    expect(eva.locator("[data-live-announcer]")).to_have_text("New poll: Which first step?")
    screenshot(eva, "polls-live-card-appeared")

    # Eva votes with the keyboard alone: to the card's Vote link, Enter; to the options, an
    # arrow to the second, Space, Enter.
    eva.evaluate("() => { window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); }")
    tab_to(eva, f"#poll-card-{poll_id} a.button")
    eva.keyboard.press("Enter")
    expect(eva).to_have_url(re.compile(rf"/polls/{poll_id}(#vote)?$"))
    expect(eva.locator("#vote")).to_be_visible()
    # The vote goes over the socket once it is connected (before that, the form's own POST).
    expect(eva.locator("#vote")).to_have_attribute("data-socket", "connected")
    mark(eva)
    mark(lea)
    tab_to(eva, "input[name=choice]")
    eva.keyboard.press("ArrowDown")
    eva.keyboard.press("Space")
    expect(eva.get_by_label("Recognition of diplomas")).to_be_checked()
    eva.keyboard.press("Enter")

    expect(eva.locator("[data-form-status]")).to_have_text("Your vote has been saved.")
    for page in (eva, lea):  # both see it live, neither reloaded
        expect(results(page).locator("[data-voters-text]")).to_contain_text("1 voter")
        expect(row(page, "Recognition of diplomas").locator("td").first).to_have_text("1")
        expect(row(page, "Recognition of diplomas").locator("td").nth(1)).to_have_text("100%")
        expect(row(page, "Language courses").locator("td").nth(1)).to_have_text("0%")
    expect(lea.locator("[data-poll-announcer]")).to_have_text("1 voter")
    assert not_reloaded(lea) and not_reloaded(eva)  # the vote went over the socket, the results came live
    # Eva's was rebuilt from the page's template (Léa's, with breakdowns, came from the server):
    # exactly the table the server renders.
    assert not [path for path in asked if path.startswith(f"/polls/{poll_id}/results")]
    rebuilt = results(eva).locator("table.poll-table").first.evaluate("t => t.outerHTML")
    assert rebuilt == as_the_server_renders(eva, poll_id)
    screenshot(lea, "polls-live-results-moderator")
    screenshot(eva, "polls-live-results-participant")


def test_results_after_voting_stay_hidden_until_the_reader_votes(live_server, room_with_polls, people):
    lea, eva, amina = people["lea"], people["eva"], people["amina"]
    base = live_server["url"]
    poll_id = room_with_polls["after_vote"]
    from forum.extensions import db
    from forum.models.polls import Poll
    from forum.services import polls as poll_service

    with live_app(live_server["database_url"]):
        poll = db.session.get(Poll, poll_id)
        poll_service.open_poll(poll.created_by, poll)
    for page in (lea, eva, amina):
        page.goto(f"{base}/polls/{poll_id}")
        page.wait_for_function("() => document.readyState === 'complete'")
    for voter in (eva, amina):  # their votes go over the socket, once it is connected
        expect(voter.locator("#vote")).to_have_attribute("data-socket", "connected")
    expect(results(eva).locator("[data-results-hidden]")).to_be_visible()
    expect(results(lea).locator("[data-voters-text]")).to_contain_text("0 voters")

    amina.get_by_label("Yes").check()
    amina.get_by_role("button", name="Vote").click()
    expect(amina.locator("[data-form-status]")).to_have_text("Your vote has been saved.")
    expect(results(amina).locator("[data-voters-text]")).to_contain_text("1 voter")  # she may now
    expect(results(lea).locator("[data-voters-text]")).to_contain_text("1 voter")   # broadcast done
    # Eva, who has not voted, has nothing of it.
    expect(results(eva).locator("[data-results-hidden]")).to_be_visible()
    assert results(eva).locator("table").count() == 0

    eva.get_by_label("No").check()
    eva.get_by_role("button", name="Vote").click()
    expect(results(eva).locator("[data-voters-text]")).to_contain_text("2 voters")
    expect(row(eva, "No").locator("td").first).to_have_text("1")
    expect(results(amina).locator("[data-voters-text]")).to_contain_text("2 voters")
    expect(results(lea).locator("[data-voters-text]")).to_contain_text("2 voters")


def test_results_shown_after_closing_appear_when_the_moderator_closes_the_poll(live_server, room_with_polls, people):
    from forum.extensions import db
    from forum.models.polls import Poll
    from forum.services import polls as poll_service

    lea, eva = people["lea"], people["eva"]
    poll_id = room_with_polls["after_close"]
    with live_app(live_server["database_url"]):
        poll = db.session.get(Poll, poll_id)
        poll_service.open_poll(poll.created_by, poll)
    for page in (lea, eva):
        page.goto(f"{live_server['url']}/polls/{poll_id}")
        page.wait_for_function("() => document.readyState === 'complete'")
    expect(eva.locator("#vote")).to_have_attribute("data-socket", "connected")  # votes over the socket
    eva.get_by_label("Yes").check()
    eva.get_by_role("button", name="Vote").click()
    expect(eva.locator("[data-form-status]")).to_have_text("Your vote has been saved.")
    expect(results(lea).locator("[data-voters-text]")).to_contain_text("1 voter")
    expect(results(eva).locator("[data-results-hidden]")).to_be_visible()  # not before closing

    mark(eva)
    lea.get_by_role("button", name="Close the poll").click()
    expect(lea.locator(".poll-head .badge")).to_have_text("Closed")

    # Eva's page, not reloaded: closed, its form gone, the final results shown.
    expect(eva.locator(".poll-head .badge")).to_have_text("Closed")
    expect(eva.locator("[data-poll-vote-panel]")).to_contain_text("You voted.")
    expect(eva.locator(f'form[data-poll-vote="{poll_id}"]')).to_have_count(0)
    expect(results(eva).locator("[data-voters-text]")).to_have_text("1 voter")  # no "so far"
    expect(row(eva, "Yes").locator("td").first).to_have_text("1")
    assert not_reloaded(eva)
    screenshot(eva, "polls-live-closed")
