"""Stances in Chromium: a participant responds to a proposal by keyboard, choosing a stance;
another reader sees the response arrive live with its stance badge and the proposal's counts
follow; the stance filter lists those responses, without JavaScript's help (a GET form)."""
from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, new_page, screenshot

pytestmark = pytest.mark.e2e
PASSWORD = "plenary-participant-demo"
AMINA = "amina.diallo@passerelles-solidaires.example"
JONAS = "jonas.weber@neuhafen-stadt.example"
ORGANISER = "organiser@plenary.example"


@pytest.fixture
def proposal(live_server):
    """An open public consultation of the test's own: a plain topic, then a proposal with one
    response against it. (consultation id, proposal topic id)."""
    from forum.models.consultations import ConsultationStatus
    from forum.models.users import find_user_by_email
    from forum.services import consultations, posts

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ORGANISER)
        made = consultations.create_consultation(organiser, consultations.ConsultationInput(
            title=f"Stances {secrets.token_hex(3)}", visibility="public"))
        consultations.add_topic(organiser, made, consultations.TopicInput(title="Housing"))
        topic = consultations.add_topic(organiser, made, consultations.TopicInput(
            title="Ring-fence 10% for small grants", is_proposal=True))
        consultations.set_status(organiser, made, ConsultationStatus.OPEN.value)
        posts.create_post(find_user_by_email(JONAS), made, topic_id=topic.id, body="Too rigid.", stance="against")
        return made.id, topic.id


def open_as(browser, server, email: str, path: str):
    context, page = new_page(browser)
    page.goto(server["url"] + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(server["url"] + path)
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    return context, page


def test_a_stance_chosen_by_keyboard_arrives_live_with_its_badge_and_filters(browser, live_server, proposal):
    consultation_id, topic_id = proposal
    path = f"/consultations/{consultation_id}"
    (context_a, a), (context_b, b) = (open_as(browser, live_server, email, path) for email in (AMINA, JONAS))
    try:
        counts = b.locator(f"[data-stance-counts='{topic_id}']")
        expect(counts).to_have_text("Stances: ✓ 0 in favour · – 0 neutral · ✕ 1 against")

        # The stance group shows only once the chosen topic is a proposal.
        group = a.get_by_role("group", name="Your stance on the proposal")
        expect(group).to_be_hidden()
        topic_select = a.get_by_label("Topic", exact=True).first
        topic_select.focus()
        topic_select.select_option(str(topic_id))
        expect(group).to_be_visible()

        # By keyboard: Tab into the radio group, arrows choose, Tab on to the text.
        a.keyboard.press("Tab")
        expect(group.get_by_role("radio", name="In favour")).to_be_focused()
        a.keyboard.press("ArrowRight")
        expect(group.get_by_role("radio", name="Neutral")).to_be_checked()
        a.keyboard.press("ArrowRight")
        expect(group.get_by_role("radio", name="Against")).to_be_checked()
        a.keyboard.press("ArrowLeft")
        a.keyboard.press("ArrowLeft")
        expect(group.get_by_role("radio", name="In favour")).to_be_checked()
        screenshot(a, "stances-01-chosen")
        a.keyboard.press("Tab")
        expect(a.get_by_label("Subject (optional)")).to_be_focused()
        a.keyboard.press("Tab")
        a.keyboard.type("Small grants reach the organisations the big calls miss.")
        a.get_by_role("button", name="Publish response").focus()
        a.keyboard.press("Enter")
        expect(a.locator("[data-form-status]")).to_have_text("Your response has been published.")
        expect(group.get_by_role("radio", name="In favour")).not_to_be_checked()

        # B sees it arrive, with the badge in words, and the proposal's counts follow.
        arrived = b.locator("article.post", has_text="Small grants reach the organisations")
        expect(arrived).to_have_count(1)
        expect(arrived.locator(".badge-stance")).to_have_text("Stance: ✓ In favour")
        expect(counts).to_have_text("Stances: ✓ 1 in favour · – 0 neutral · ✕ 1 against")
        expect(b.locator("#filter-stance option[value='in_favour']")).to_have_text("In favour (1)")
        screenshot(b, "stances-02-arrived")

        # The filter (a GET form): only the responses in favour.
        b.get_by_label("Stance", exact=True).select_option("in_favour")
        b.get_by_role("button", name="Show").click()
        expect(b).to_have_url(f"{live_server['url']}{path}?topic=&stance=in_favour&sort=newest#responses")
        expect(b.locator(".thread-list > li > article.post")).to_have_count(1)
        expect(b.locator(".thread-list article.post .badge-stance")).to_have_text(["Stance: ✓ In favour"])
        expect(b.locator("[data-count=responses]")).to_have_text("1 response")
        b.locator(f"#topic-{topic_id} details.stance-groups > summary").click()
        expect(b.get_by_role("table", name="Stances by country")).to_be_visible()
        screenshot(b, "stances-03-filtered")
        assert axe_violations(b) == []
        assert a.console_errors == [] and b.console_errors == []
    finally:
        context_a.close()
        context_b.close()


def test_the_demo_proposal_at_phone_width(browser, live_server):
    """The demo's proposal topic and its stance table fit a 390 px screen (no page-wide
    horizontal scrolling)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(live_server["url"] + "/")
        page.get_by_role("link", name="How can EU funds better support").first.click()
        proposal = page.locator("li.topic", has=page.locator(".badge-proposal"))
        expect(proposal).to_have_count(1)
        proposal.locator("details.stance-groups > summary").click()
        expect(proposal.get_by_role("table", name="Stances by type of organisation")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "stances-04-phone")
    finally:
        context.close()
