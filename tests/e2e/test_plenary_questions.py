"""The plenary's Q&A in Chromium: Eva asks a question, Amina sees it arrive without a reload
and upvotes it (focus stays on her button), Eva's count follows live; the organiser marks it
answered and it moves to "Answered" in both participants' pages; axe-core finds nothing
serious. Every wait is on a condition (30 s bound)."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from forum.demo import ORGANISER_EMAIL, ORGANISER_PASSWORD
from tests.e2e.conftest import axe_violations, live_app, log_in, new_page, screenshot, signed_in_pages
from tests.e2e.test_breakout import PARTICIPANT_PASSWORD

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "organiser": (ORGANISER_EMAIL, ORGANISER_PASSWORD),
    "eva": ("eva.lindqvist@norrvik-uni.example", PARTICIPANT_PASSWORD),
    "amina": ("amina.diallo@passerelles-solidaires.example", PARTICIPANT_PASSWORD),
}


@pytest.fixture
def plenary_path(live_server):
    """A running event of the test's own, its plenary open, Eva and Amina registered."""
    from forum.models.base import utcnow
    from forum.models.users import find_user_by_email
    from forum.services import event_setup, rooms

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ORGANISER_EMAIL)
        now = utcnow()
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=f"Q&A {secrets.token_hex(3)}", starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2), assignment_mode="manual"))
        event_setup.publish_event(organiser, event)
        for name in ("eva", "amina"):
            event_setup.register(find_user_by_email(ACCOUNTS[name][0]), event)
        rooms.set_phase(organiser, event.plenary, "open")
        return f"/events/{event.id}/rooms/{event.plenary.id}"


@pytest.fixture
def people(browser, live_server):
    with signed_in_pages(browser, live_server["url"], ACCOUNTS) as pages:
        yield pages


def mark(page) -> None:
    page.evaluate("() => { window.plenaryTestMark = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.plenaryTestMark === true")


def test_a_question_is_asked_upvoted_and_answered_live(live_server, plenary_path, people):
    eva, amina, organiser = people["eva"], people["amina"], people["organiser"]
    for page in (eva, amina, organiser):
        page.goto(live_server["url"] + plenary_path)
        expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
        mark(page)
    text = "Who will follow up on the report-back?"

    eva.get_by_label("Your question to the speakers").fill(text)
    eva.locator("#questions").get_by_role("button", name="Ask").click()
    mine = eva.locator("#questions li.question", has_text=text)
    expect(mine).to_be_visible()
    expect(eva.get_by_label("Your question to the speakers")).to_have_value("")

    # Amina sees it arrive, and upvotes it by keyboard; her button keeps the focus.
    theirs = amina.locator("#questions li.question", has_text=text)
    expect(theirs).to_be_visible()
    vote = theirs.locator("button.vote-button")
    expect(vote).to_have_attribute("aria-pressed", "false")
    vote.focus()
    amina.keyboard.press("Enter")
    vote = amina.locator("#questions li.question", has_text=text).locator("button.vote-button")
    expect(vote).to_have_attribute("aria-pressed", "true")
    expect(vote).to_be_focused()
    expect(vote.locator("[data-question-votes]")).to_have_text("1")
    # Eva's count follows, without a reload (her own question: a count, not a button).
    expect(mine.locator(".vote-count")).to_have_text("1 vote")
    assert not_reloaded(eva) and not_reloaded(amina)
    screenshot(amina, "plenary-questions-voted")

    # The organiser marks it answered (the questions are a tab of the console): it moves to
    # "Answered" everywhere.
    organiser.get_by_role("tab", name="Questions").click()
    question = organiser.locator("#questions li.question", has_text=text)
    expect(question.locator(".vote-count, [data-question-votes]").first).to_contain_text("1")
    question.get_by_role("button", name="Mark answered").click()
    for page in (eva, amina, organiser):
        answered = page.locator('#questions [data-question-group="answered"] li.question', has_text=text)
        expect(answered).to_be_visible()
        expect(answered).to_contain_text("Answered")
        assert not_reloaded(page)
    expect(amina.locator('#questions [data-question-group="answered"] button.vote-button')).to_have_count(0)
    screenshot(organiser, "plenary-questions-answered")

    for page in (eva, amina, organiser):
        assert axe_violations(page) == []


def test_votes_and_new_questions_reach_a_reader_without_fetching_the_list(live_server, plenary_path, people):
    """A reader applies the live messages herself: another's vote moves the count and the order,
    a new question is built from the page's template, and her page asks the server nothing."""
    from forum.models.users import find_user_by_email
    from forum.services import questions as question_service

    eva, amina = people["eva"], people["amina"]
    event_id, plenary_id = (int(part) for part in plenary_path.split("/")[2::2])
    with live_app(live_server["database_url"]):
        from forum.extensions import db
        from forum.models import Room

        organiser = find_user_by_email(ORGANISER_EMAIL)
        room = db.session.get(Room, plenary_id)
        question_service.ask(organiser, room, "The older question")
        question_service.ask(organiser, room, "The newer question")
    for page in (eva, amina):
        page.goto(live_server["url"] + plenary_path)
        expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    mark(amina)
    fetched = []
    amina.on("request", lambda request: fetched.append(request.url) if "/questions/list" in request.url else None)
    items = amina.locator('#questions [data-question-group="open"] > li.question .question-text')
    expect(items).to_have_text(["The newer question", "The older question"])  # no votes: the most recent first

    # Amina's focus is on the older question's button when Eva's vote moves it to the top.
    older = amina.locator("#questions li.question", has_text="The older question")
    older.locator("button.vote-button").focus()
    eva.locator("#questions li.question", has_text="The older question").locator("button.vote-button").click()
    expect(older.locator("[data-question-votes]")).to_have_text("1")
    expect(older.locator("button.vote-button")).to_have_accessible_name("Upvote (1 vote)")
    expect(items).to_have_text(["The older question", "The newer question"])
    expect(older.locator("button.vote-button")).to_be_focused()
    expect(older.locator("button.vote-button")).to_have_attribute("aria-pressed", "false")  # Eva's vote, not hers

    # Eva asks, anonymously, with markup in her words: it arrives as text, in its place.
    eva.get_by_label("Your question to the speakers").fill("Is <b>this</b> recorded?")
    eva.get_by_label("Ask anonymously").check()
    eva.locator("#questions").get_by_role("button", name="Ask").click()
    expect(items).to_have_text(["The older question", "Is <b>this</b> recorded?", "The newer question"])
    new = amina.locator("#questions li.question", has_text="Is <b>this</b> recorded?")
    expect(new.locator("b")).to_have_count(0)
    expect(new.locator(".card-meta")).to_contain_text("Anonymous")
    expect(new.locator(".card-meta")).not_to_contain_text("Eva")
    expect(new.locator("button.vote-button")).to_have_attribute("aria-pressed", "false")
    expect(new.locator("[data-question-votes]")).to_have_text("0")
    # Amina votes for it: her button is pressed, the count comes with the vote's message.
    new.locator("button.vote-button").click()
    expect(new.locator("button.vote-button")).to_have_attribute("aria-pressed", "true")
    expect(new.locator("[data-question-votes]")).to_have_text("1")
    expect(items).to_have_text(["Is <b>this</b> recorded?", "The older question", "The newer question"])

    assert fetched == [], f"the reader fetched the list: {fetched}"
    assert not_reloaded(amina)
    assert axe_violations(amina) == []
    screenshot(amina, "plenary-questions-live-built")


def test_without_javascript_a_question_is_asked_and_voted_by_forms(browser, live_server, plenary_path):
    context, page = new_page(browser, viewport={"width": 390, "height": 844}, javascript=False)
    try:
        log_in(page, live_server["url"], *ACCOUNTS["amina"])
        page.goto(live_server["url"] + plenary_path)
        # On a phone the questions are the page's second view, beside the discussion: a tab.
        page.locator(".room-tabs").get_by_role("link", name="Questions to the speakers").click()
        page.get_by_label("Your question to the speakers").fill("Is there a recording?")
        page.locator("#questions").get_by_role("button", name="Ask").click()
        assert page.url.endswith("#questions")
        expect(page.locator("#questions li.question", has_text="Is there a recording?")).to_be_visible()
    finally:
        context.close()
