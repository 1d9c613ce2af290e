"""Feedback after an event (docs/feedback.md), as its people click through it in Chromium:
the organiser keeps the default form and ends the event; Eva answers by keyboard alone
(anonymous, the default), Amina with the mouse and her name; a second answer from a tab
left open is refused kindly; the organiser reads the distribution, the mean and the
comments from the event's page. axe finds no WCAG 2.1 AA violation on the form and the
results, on a laptop and at a phone's width. Screenshots: /tmp/shots/feedback-*.png."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, page_opener
from tests.e2e.keyboard import has_visible_focus, shot, tab_to

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "organiser": ("organiser@plenary.example", "plenary-organiser-demo"),
    "eva": ("eva.lindqvist@norrvik-uni.example", "plenary-participant-demo"),
    "amina": ("amina.diallo@passerelles-solidaires.example", "plenary-participant-demo"),
}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def event_id(live_server) -> int:
    """A running event of the test's own with one breakout room, "Housing", where Eva and
    Amina are placed; it ends during the test."""
    from forum.models.base import utcnow
    from forum.models.users import find_user_by_email
    from forum.services import event_setup

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ACCOUNTS["organiser"][0])
        now = utcnow()
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=f"Feedback day {secrets.token_hex(3)}", starts_at=now - timedelta(hours=2),
            ends_at=now + timedelta(hours=1), assignment_mode="manual"))
        event_setup.publish_event(organiser, event)
        room = event_setup.add_room(organiser, event, event_setup.RoomInput(title="Housing"))
        for name in ("eva", "amina"):
            person = find_user_by_email(ACCOUNTS[name][0])
            event_setup.assign_member(organiser, event_setup.register(person, event), room)
        return event.id


@pytest.fixture
def open_as(browser, live_server):
    """open_as(name, path, viewport=None) -> that person's page on `path`, logged in."""
    with page_opener(browser, live_server["url"]) as open_page:
        def open_as(name, path, viewport=None):
            page = open_page(*ACCOUNTS[name], viewport=viewport)
            page.goto(live_server["url"] + path)
            return page
        yield open_as


def rating_row(page, caption: str, label: str):
    table = page.get_by_role("table", name=caption)
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label, exact=True))


def test_participants_answer_once_and_the_organiser_reads_the_results(open_as, event_id):
    event_path = f"/events/{event_id}"
    organiser = open_as("organiser", event_path)

    # The organiser looks at the form and keeps the default one.
    organiser.get_by_role("link", name="Feedback form").click()
    questions = organiser.get_by_label("Open questions")
    expect(questions).to_have_value("What worked well?\nWhat should we change next time?")
    expect(organiser.get_by_label("Ask each participant to rate their breakout room")).to_be_checked()
    tab_to(organiser, organiser.get_by_role("button", name="Save the form"))  # by keyboard, focus in sight
    organiser.keyboard.press("Enter")
    expect(organiser.get_by_text("The feedback form is saved.")).to_be_visible()

    # Before the event is over, participants are told when the form opens.
    eva_early = open_as("eva", event_path + "/feedback")
    expect(eva_early.get_by_text("The feedback form opens when the event is over.")).to_be_visible()

    # The organiser ends the event from its edit page.
    organiser.goto(organiser.url.split("/events/")[0] + event_path)
    organiser.get_by_role("link", name="Edit event").click()
    organiser.get_by_role("button", name="End the event").click()
    expect(organiser.get_by_text("The event has ended")).to_be_visible()

    # Amina opens the form in a tab she will come back to later (after answering in another).
    amina_stale = open_as("amina", event_path + "/feedback")
    expect(amina_stale.get_by_role("button", name="Send my feedback")).to_be_visible()

    # Eva: from the event's page, by keyboard alone, anonymous (the default).
    eva = open_as("eva", event_path)
    eva.get_by_role("link", name="Give feedback on this event").click()
    expect(eva.get_by_role("heading", level=1)).to_contain_text("Feedback on")
    expect(eva.get_by_label("Show my name with my answer")).not_to_be_checked()
    shot(eva, "feedback-form")
    assert axe_violations(eva) == []
    overall = eva.get_by_role("group", name="Overall, how was the event?")
    tab_to(eva, overall.get_by_role("radio").first)
    eva.keyboard.press("Space")
    for _ in range(3):
        eva.keyboard.press("ArrowDown")
    expect(overall.get_by_role("radio", name="4 – Good")).to_be_checked()
    assert has_visible_focus(eva)
    room_group = eva.get_by_role("group", name="How was your breakout room, “Housing”?")
    tab_to(eva, room_group.get_by_role("radio").first)
    eva.keyboard.press("Space")
    eva.keyboard.press("ArrowDown")
    expect(room_group.get_by_role("radio", name="2 – Poor")).to_be_checked()
    tab_to(eva, eva.get_by_label("What worked well?"))
    eva.keyboard.type("The tram tour of the reception centres.")
    tab_to(eva, eva.get_by_label("What should we change next time?"))
    eva.keyboard.type("Longer breaks.")
    shot(eva, "feedback-form-keyboard")
    tab_to(eva, eva.get_by_role("button", name="Send my feedback"))
    eva.keyboard.press("Enter")
    expect(eva.get_by_text("Thank you for your feedback.")).to_be_visible()
    expect(eva.get_by_role("link", name="Give feedback on this event")).to_have_count(0)
    eva.goto(eva.url.split("#")[0] + "/feedback")
    expect(eva.get_by_text("You have answered this feedback form. Thank you!")).to_be_visible()
    expect(eva.get_by_role("button", name="Send my feedback")).to_have_count(0)

    # Amina, with the mouse and her name, on a phone.
    amina = open_as("amina", event_path + "/feedback", viewport=PHONE)
    amina.get_by_role("group", name="Overall, how was the event?").get_by_text("5 – Very good").click()
    amina.get_by_label("What worked well?").fill("Meeting the city's housing office.")
    amina.get_by_label("Show my name with my answer").check()
    shot(amina, "feedback-form-phone")
    assert axe_violations(amina) == []
    amina.get_by_role("button", name="Send my feedback").click()
    expect(amina.get_by_text("Thank you for your feedback.")).to_be_visible()

    # The tab she left open sends a second answer: refused, kindly, and nothing is counted twice.
    amina_stale.get_by_role("group", name="Overall, how was the event?").get_by_text("1 – Very poor").click()
    with amina_stale.expect_response(lambda r: r.request.method == "POST") as refused:
        amina_stale.get_by_role("button", name="Send my feedback").click()
    assert refused.value.status == 409
    expect(amina_stale.get_by_role("status")).to_have_text("You have already answered this feedback form. Thank you!")
    expect(amina_stale.get_by_role("link", name="Back to the event")).to_be_visible()
    expect(amina_stale.get_by_role("button", name="Send my feedback")).to_have_count(0)
    shot(amina_stale, "feedback-second-answer")
    # The browser logs the 409 as a failed load: expected here, and only here.
    amina_stale.console_errors = [e for e in amina_stale.console_errors if "status of 409" not in e]

    # The organiser reads the results, from the event's page.
    organiser.goto(organiser.url.split("/events/")[0] + event_path)
    organiser.get_by_role("link", name="Feedback results").click()
    expect(organiser.get_by_text("2 people answered.")).to_be_visible()
    overall_table = "Overall rating"
    for label, count, share in (("5 – Very good", "1", "50%"), ("4 – Good", "1", "50%"),
                                ("3 – Fair", "0", "0%"), ("1 – Very poor", "0", "0%")):
        expect(rating_row(organiser, overall_table, label).get_by_role("cell")).to_have_text([count, share, ""])
    expect(organiser.get_by_text("Mean 4.5 from 2 answers.")).to_be_visible()
    room_table = "Rating of “Housing”"
    expect(rating_row(organiser, room_table, "2 – Poor").get_by_role("cell")).to_have_text(["1", "100%", ""])
    expect(organiser.get_by_text("Mean 2.0 from 1 answer.")).to_be_visible()
    worked = organiser.locator("section", has=organiser.get_by_role("heading", name="Comments"))
    comments = worked.get_by_role("listitem")
    expect(comments.filter(has_text="Meeting the city's housing office.")).to_contain_text("— Amina Diallo")
    tram = comments.filter(has_text="The tram tour of the reception centres.")
    expect(tram).to_have_count(1)
    expect(tram).not_to_contain_text("Eva")  # anonymous: no name, not even a hint
    expect(comments.filter(has_text="Longer breaks.")).to_have_count(1)
    shot(organiser, "feedback-results")
    assert axe_violations(organiser) == []

    organiser.set_viewport_size(PHONE)
    shot(organiser, "feedback-results-phone")
    assert axe_violations(organiser) == []
    assert organiser.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), \
        "the results scroll sideways on a phone"
