"""A card built by the page from a compact live event is the card the server renders on page
load, for the same reader, in English and in Italian: a consultation's posts (a response on
behalf of an organisation, edited; a reply quoting it; a pinned and closed thread; a hidden
post; a deleted one; a response with its stance on a proposal) and a room's messages (a
reply with a quote, a pinned one, a hidden one, a moderator's, a deleted one).

The page is opened first; the posts are written straight into the database (as another server
process would); one more write through the server then reaches the page with a gap in the
numbers, and the page catches up on the stored messages: what it builds from them is compared
with a fresh page load, after the page's usual treatment of times."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import live_app, new_page, serve_demo
from tests.realtime.live import Browser

pytestmark = pytest.mark.e2e
PARTICIPANT_PASSWORD = "plenary-participant-demo"
MODERATOR_PASSWORD = "plenary-moderator-demo"
AMINA = "amina.diallo@passerelles-solidaires.example"
JONAS = "jonas.weber@neuhafen-stadt.example"
GIULIA = "giulia.ferraresi@regione-lunigiana-est.example"
ORGANISER = ("organiser@plenary.example", "plenary-organiser-demo")
LEA = "moderator.lea@plenary.example"
EVA = "eva.lindqvist@norrvik-uni.example"


@pytest.fixture(scope="module")
def server(demo_database, tmp_path_factory):
    with serve_demo(tmp_path_factory.mktemp("compact"), demo_database) as server:
        yield server


@pytest.fixture
def opened(browser):
    """open(server, email, password, path) -> page, each closed at the end of the test."""
    contexts = []

    def open_page(server, email: str, password: str, path: str):
        context, page = new_page(browser)
        contexts.append(context)
        page.goto(server["url"] + "/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("meta[name=user-id]")).not_to_have_attribute("content", "")
        page.goto(server["url"] + path)
        expect(page.locator("[data-live-status]").first).to_have_attribute("data-state", "live")
        return page
    yield open_page
    for context in contexts:
        context.close()


@contextmanager
def services(server):
    with live_app(server["database_url"]) as app:
        from forum.extensions import db
        from forum.models.users import find_user_by_email

        yield app, db, find_user_by_email


def speak(server, language: str, *emails: str) -> None:
    with services(server) as (_app, _db, user):
        for email in emails:
            user(email).preferred_language = language


def normalised(html: str) -> str:
    """What legitimately differs between two renderings of the same card goes: the CSRF
    token's value (a token per page load), the <time>'s title (the server's wording of the
    time, in the reader's zone on page load; the page words the time itself), the mark of a
    new post, and indentation."""
    html = re.sub(r'(name="csrf_token" value=")[^"]*"', r'\1"', html)
    html = re.sub(r'(<time datetime="[^"]*") title="[^"]*"', r"\1", html)
    html = re.sub(r' ?\bpost-new\b', "", html)
    html = re.sub(r"\s+", " ", html)
    return re.sub(r"\s*(<|>)\s*", r"\1", html)


def cards(page, selectors: list[str]) -> dict[str, str]:
    return {selector: normalised(page.locator(selector).evaluate("el => el.outerHTML")) for selector in selectors}


def _first_difference(built: str, loaded: str) -> tuple[str, str]:
    at = next((i for i, (a, b) in enumerate(zip(built, loaded, strict=False)) if a != b), min(len(built), len(loaded)))
    return built[max(0, at - 200):at + 300], loaded[max(0, at - 200):at + 300]


def assert_same_as_page_load(page, selectors: list[str]) -> None:
    built = cards(page, selectors)
    page.reload()
    loaded = cards(page, selectors)
    for selector in selectors:
        assert built[selector] == loaded[selector], (selector, _first_difference(built[selector], loaded[selector]))
    assert page.console_errors == []


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_consultations_cards_built_from_events_are_the_page_loads(opened, server, language):
    speak(server, language, AMINA, JONAS)
    with services(server) as (_app, db, user):
        from sqlalchemy import select

        from forum.models import Consultation
        from forum.models.consultations import ConsultationStatus

        consultation = db.session.scalars(select(Consultation).where(
            Consultation.status == ConsultationStatus.OPEN).order_by(Consultation.id)).first()
        # The last topic that is no proposal (the demo's last is one: its responses take a stance).
        consultation_id, topic_id = consultation.id, [t for t in consultation.topics if not t.is_proposal][-1].id
        proposal_id = next(t.id for t in consultation.topics if t.is_proposal)
        from forum.services import posts
        withdrawn_id = posts.create_post(user(AMINA), consultation, topic_id=topic_id, body="To be withdrawn.").id
    path = f"/consultations/{consultation_id}"
    pages = [opened(server, email, PARTICIPANT_PASSWORD, path) for email in (AMINA, JONAS)]

    with services(server) as (_app, db, user):
        from forum.models import Consultation, Post
        from forum.services import moderation, posts

        consultation = db.session.get(Consultation, consultation_id)
        amina, jonas, giulia = user(AMINA), user(JONAS), user(GIULIA)
        organiser = user(ORGANISER[0])
        response = posts.create_post(amina, consultation, topic_id=topic_id, subject=f"Modules ({language})",
                                     body="Courses in *modules*.", on_behalf_of_organisation=True)
        db.session.flush()
        posts.edit_post(amina, response, subject=f"Modules ({language})", body="Courses in **modules**.")
        reply = posts.create_post(jonas, consultation, parent=response, body="Agreed <b>entirely</b>.", quote=True)
        pinned = posts.create_post(jonas, consultation, topic_id=topic_id, body="A pinned and closed thread.")
        hidden = posts.create_post(giulia, consultation, topic_id=topic_id, body="A phone number: 0470 12 34 56.")
        db.session.flush()
        posts.endorse(giulia, pinned)  # its author sees "1 endorsement" on the card of the pin
        moderation.pin_post(organiser, pinned)
        moderation.lock_thread(organiser, pinned)
        moderation.hide_post(organiser, hidden, "Personal data")
        posts.delete_post(amina, db.session.get(Post, withdrawn_id))
        stance = posts.create_post(jonas, consultation, topic_id=proposal_id, body="Neutral, for now.",
                                   stance="neutral")
        ids = [response.id, reply.id, pinned.id, hidden.id, withdrawn_id, stance.id]
    # One more write through the server: its event reaches the pages, which catch up on the rest.
    trigger = Browser(server["url"]).login(GIULIA, PARTICIPANT_PASSWORD)
    assert trigger.respond(consultation_id, topic_id, f"And one more ({language}).") == 302

    assert_built_cards_are_the_page_loads(pages, f"And one more ({language}).", ids)


def assert_built_cards_are_the_page_loads(pages, last_body: str, ids: list[int], quoting: str | None = None) -> None:
    """Once each page shows the last post (live), the cards of `ids` (the second one quotes)
    are there once each, as a fresh load of the page renders them. `quoting`: where the
    quote of the second one shows (a room's pinned message shows it in the pinned bar; the
    discussion has a marker)."""
    selectors = [f"#post-{post_id}" for post_id in ids]
    for page in pages:
        expect(page.locator(".post-body", has_text=last_body)).to_be_visible()
        for selector in selectors:
            expect(page.locator(selector)).to_have_count(1)
        expect(page.locator((quoting or selectors[1]) + " .quote-head")).to_be_visible()
        assert_same_as_page_load(page, selectors)


def room_members(server) -> tuple[str, list[str]]:
    """The path of the demo room Léa moderates and Eva takes part in, and two other participants'
    emails there."""
    with services(server) as (_app, db, user):
        from sqlalchemy import select

        from forum.models import EventMember

        eva = user(EVA)
        member = db.session.scalar(select(EventMember).where(EventMember.user_id == eva.id))
        others = db.session.scalars(select(EventMember).where(
            EventMember.room_id == member.room_id, EventMember.user_id != eva.id)).all()
        emails = [m.user.email for m in others if m.role.value == "participant"][:2]
        return f"/events/{member.event_id}/rooms/{member.room_id}", emails


@pytest.mark.parametrize("language", ["en", "it"])
def test_a_rooms_cards_built_from_events_are_the_page_loads(opened, server, language):
    path, (other, third) = room_members(server)
    speak(server, language, EVA, LEA)
    with services(server) as (_app, db, user):
        from forum.models import Room
        from forum.services import posts

        room = db.session.get(Room, int(path.rsplit("/", 1)[1]))
        withdrawn_id = posts.post_in_room(user(other), room, body="To be withdrawn.").id
    pages = [opened(server, EVA, PARTICIPANT_PASSWORD, path), opened(server, LEA, MODERATOR_PASSWORD, path)]

    with services(server) as (_app, db, user):
        from forum.models import Post, Room
        from forum.services import moderation, posts

        room = db.session.get(Room, int(path.rsplit("/", 1)[1]))
        eva, lea, someone, third_one = user(EVA), user(LEA), user(other), user(third)
        first = posts.post_in_room(someone, room, body=f"Evening classes help ({language}).")
        db.session.flush()
        reply = posts.post_in_room(eva, room, body="Yes, *and* childcare.", parent=first, quote=True)
        pinned = posts.post_in_room(someone, room, body="Where do we meet next?")
        hidden = posts.post_in_room(someone, room, body="My number: 0470 12 34 56.")
        by_moderator = posts.post_in_room(lea, room, body="Five minutes left for this point.")
        db.session.flush()
        posts.endorse(third_one, first)
        posts.endorse(third_one, reply)  # its author sees the count in words, on the card of the pin:
        moderation.pin_post(lea, reply)
        moderation.pin_post(lea, pinned)
        moderation.hide_post(lea, hidden, "Personal data")
        posts.delete_post(someone, db.session.get(Post, withdrawn_id))
        ids = [first.id, reply.id, pinned.id, hidden.id, by_moderator.id, withdrawn_id]
    trigger = Browser(server["url"]).login(third, PARTICIPANT_PASSWORD)
    assert trigger.submit(path, path + "/messages", {"body": f"One more ({language})."}) == 302

    assert_built_cards_are_the_page_loads(pages, f"One more ({language}).", ids, quoting=f"#pinned-{ids[1]}")
