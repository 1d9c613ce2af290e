"""The statements board in a browser: a participant votes by keyboard, one statement at a
time, and once they have voted on seven the map (recomputed in the server process on a timer,
OPINION_MAP_DEBOUNCE_SECONDS later: the e2e server has no Redis) shows their point, labelled "You", without a reload."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "a-long-password-1"


@pytest.fixture
def board(live_server):
    """An open board of a consultation made for this test: nine statements, twelve other
    people who voted on all of them (two opinion groups), and a participant who has not."""
    from forum.models.users import find_user_by_email
    from forum.services import accounts, consultations, opinion

    tag = uuid.uuid4().hex[:6]
    with live_app(live_server["database_url"]) as app:
        app.config["JOBS_REDIS_URL"] = None  # the map is computed here, inline, as it commits
        app.config["OPINION_MAP_DEBOUNCE_SECONDS"] = 0
        organiser = find_user_by_email("organiser@plenary.example")
        consultation = consultations.create_consultation(organiser, consultations.ConsultationInput(
            title=f"Statements about mentoring ({tag})"))
        consultations.add_topic(organiser, consultation, consultations.TopicInput(title="Mentoring"))
        consultations.set_status(organiser, consultation, "open")
        board = opinion.save_board(organiser, consultation, prompt="How should mentoring work?", premoderated=True)
        opinion.set_board_status(organiser, board, "open")
        statements = [opinion.add_seed_statement(organiser, board, f"Mentoring statement {i + 1} ({tag})")
                      for i in range(9)]

        def person(name: str, country: str) -> object:
            return accounts.register(f"{name}-{tag}@example.org", PASSWORD, accounts.Profile(
                display_name=name.title(), organisation="", organisation_type="ngo", country=country))

        for n in range(12):
            voter = person(f"voter{n}", ("DE", "IT")[n % 2])
            for i, statement in enumerate(statements):
                opinion.vote(voter, statement, 1 if (n % 2 == 0) == (i % 3 != 0) else -1)
        me = person("mentor", "BE")
        return {"url": f"{live_server['url']}/consultations/{consultation.id}/board", "email": me.email}


def log_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("link", name="Profile")).to_be_visible()


def test_a_participant_votes_by_keyboard_and_finds_themself_on_the_map(live_server, board, page):
    log_in(page, live_server["url"], board["email"])
    page.goto(board["url"])
    expect(page.locator("h1")).to_have_text("Statements board")
    expect(page.locator("svg.map-svg")).to_be_visible()  # the others' map
    expect(page.locator("g.map-me")).to_have_count(0)  # not yet on it
    assert axe_violations(page) == []
    screenshot(page, "opinion-board-1280")

    seen = []
    statement = page.locator("[data-vote-panel] blockquote.statement-text")
    page.locator("button.vote-agree").focus()
    for n in range(7):
        text = statement.inner_text()
        assert text not in seen
        seen.append(text)
        # Agree, disagree, pass in turn, from the keyboard: Tab moves along the buttons.
        for _ in range(n % 3):
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator("[data-vote-panel]")).to_have_attribute("data-voted", str(n + 1))
        # Focus is on the next statement; Tab reaches its first button.
        expect(statement).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.locator("button.vote-agree")).to_be_focused()

    # The seventh vote placed them: the recomputed map arrives as a live event.
    me = page.locator("g.map-me")
    expect(me).to_have_count(1)
    expect(me.locator("text")).to_have_text("You")
    expect(page.locator("[data-map-description]")).to_contain_text("You are in group")
    assert page.url == board["url"]  # no reload
    screenshot(page, "opinion-board-voted-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    expect(me).to_be_visible()
    screenshot(page, "opinion-board-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"


def test_the_demo_board_reads_well_at_both_widths(live_server, page):
    """The demo's board (300 voters, three groups), read by its organiser: the map, the
    groups, the moderators' queue; nothing changed."""
    from forum.models import OpinionBoard
    from forum.models.users import find_user_by_email  # noqa: F401 (the demo's organiser below)

    with live_app(live_server["database_url"]) as app:
        from forum.extensions import db

        app.config["JOBS_REDIS_URL"] = None
        board = db.session.scalars(db.select(OpinionBoard)).first()
        url = f"{live_server['url']}/consultations/{board.consultation_id}/board"
    page.goto(live_server["url"] + "/login")
    page.locator("#email").fill("organiser@plenary.example")
    page.locator("#password").fill(organiser_password(live_server))
    page.locator("main form button[type=submit]").first.click()
    page.goto(url)
    expect(page.locator("svg.map-svg")).to_be_visible()
    expect(page.locator("[data-map-description]")).to_contain_text("in 3 opinion groups")
    expect(page.locator("#moderation [data-pending] li")).to_have_count(1)
    assert axe_violations(page) == []
    screenshot(page, "opinion-demo-board-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "opinion-demo-board-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"


def organiser_password(live_server) -> str:
    import re

    return re.search(r"organiser@plenary\.example\s+/\s+(\S+)", live_server["demo_output"]).group(1)
