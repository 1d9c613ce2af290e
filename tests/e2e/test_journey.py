"""The journey of a new stakeholder, in Chromium: register, respond to a topic, reply,
endorse, switch to Italian (in an open consultation of the test's own, so the demo's stays as
it was); and axe-core on the main pages of the demo."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from forum.demo import MAIN_TITLE
from tests.e2e.conftest import axe_violations, live_app, screenshot

pytestmark = pytest.mark.e2e


def open_demo_consultation(page, base_url: str) -> str:
    page.goto(base_url + "/?phase=open")
    page.locator(".consultation-card .card-title a", has_text=MAIN_TITLE).click()
    expect(page.locator("h2#topics-heading")).to_be_visible()
    return page.url.split("#")[0].split("?")[0]


@pytest.fixture
def consultation_url(live_server) -> str:
    """An open public consultation made for this test: two topics, and under the first a
    response by a demo participant (one to endorse)."""
    from forum.models.consultations import ConsultationStatus
    from forum.models.users import find_user_by_email
    from forum.services import consultations, posts

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email("organiser@plenary.example")
        consultation = consultations.create_consultation(organiser, consultations.ConsultationInput(
            title=f"Mentoring newcomers ({uuid.uuid4().hex[:6]})"))
        topics = [consultations.add_topic(organiser, consultation, consultations.TopicInput(title=title))
                  for title in ("First steps", "Finding work")]
        consultations.set_status(organiser, consultation, ConsultationStatus.OPEN.value)
        posts.create_post(find_user_by_email("jonas.weber@neuhafen-stadt.example"), consultation,
                          topic_id=topics[0].id, body="Our city hall runs a welcome desk in six languages.")
        return f"{live_server['url']}/consultations/{consultation.id}"


def register(page, base_url: str) -> str:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.org"
    page.goto(base_url + "/register")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("a-long-password-1")
    page.get_by_label("Repeat the password").fill("a-long-password-1")
    page.get_by_label("Name shown to others").fill("Erika Testerová")
    page.get_by_label("Organisation", exact=True).fill("Regional Integration Office")
    page.get_by_label("Type of organisation").select_option("regional_authority")
    page.get_by_label("Country", exact=True).select_option("SK")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".flash-success")).to_contain_text("Welcome to Plenary")
    return email


def test_new_stakeholder_responds_replies_endorses_and_switches_language(live_server, consultation_url, page):
    base = live_server["url"]
    register(page, base)
    page.goto(consultation_url)
    expect(page.locator("h2#topics-heading")).to_be_visible()
    screenshot(page, "01-consultation")

    # Respond to Topic 2.
    topic_select = page.get_by_label("Topic", exact=True).first
    topic_2 = page.locator("#topic_id option", has_text=re.compile(r"^Topic 2:"))
    topic_select.select_option(topic_2.get_attribute("value"))
    text = f"Our office pairs every newcomer with a local mentor in the first month ({uuid.uuid4().hex[:6]})."
    page.get_by_label("Subject (optional)").fill("Mentoring in the first month")
    page.get_by_label("Your response").fill(text)
    page.get_by_role("button", name="Publish response").click()
    # Sent over the live connection: the page confirms and shows it without reloading.
    expect(page.locator("[data-form-status]")).to_have_text("Your response has been published.")
    expect(page.locator("article.post", has_text=text)).to_have_count(1)

    # It is listed under Topic 2, and not under Topic 1.
    page.goto(f"{consultation_url}?topic={topic_2.get_attribute('value')}")
    expect(page.locator("#filter-topic option:checked")).to_contain_text("Topic 2:")
    mine = page.locator("article.post", has_text=text)
    expect(mine).to_have_count(1)
    expect(mine.locator(".topic-chip")).to_contain_text("Topic 2")
    screenshot(page, "02-response-under-topic-2")
    topic_1 = page.locator("#filter-topic option", has_text=re.compile(r"^Topic 1:")).get_attribute("value")
    page.goto(f"{consultation_url}?topic={topic_1}")
    expect(page.locator("article.post", has_text=text)).to_have_count(0)

    # Reply to it.
    page.goto(consultation_url)
    response = page.locator("article.post", has_text=text)
    response.locator("summary", has_text="Actions").click()  # a post's actions are in one disclosure
    response.get_by_role("link", name=re.compile("^Reply")).click()
    reply_text = "Adding: the mentors are volunteers from migrant-led associations."
    page.get_by_label("Your reply").fill(reply_text)
    page.get_by_role("button", name="Publish reply").click()
    reply = page.locator("article.post-reply", has_text=reply_text)
    expect(reply).to_have_count(1)
    expect(reply.locator(".in-reply-to")).to_contain_text("Erika Testerová")
    screenshot(page, "03-reply")

    # Endorse someone else's response: the count goes up by one and the button says so.
    page.goto(consultation_url + "?sort=oldest")
    other = page.locator("article.post:not(.post-reply)").filter(
        has=page.get_by_role("button", name=re.compile("^Endorse"))).first
    other_id = other.get_attribute("id")
    before = int(other.locator("button .count").inner_text())
    other.get_by_role("button", name=re.compile("^Endorse")).click()
    endorsed = page.locator(f"#{other_id}")
    expect(endorsed.get_by_role("button", name=re.compile("^Endorsed"))).to_have_attribute("aria-pressed", "true")
    expect(endorsed.locator("button .count")).to_have_text(str(before + 1))
    screenshot(page, "04-endorsed")

    # Switch the interface to Italian: it stays Italian on the next page too.
    page.get_by_label("Language").select_option("it")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.locator("#topics-heading")).to_have_text("Argomenti")
    page.goto(base + "/")
    expect(page.locator("h1")).to_have_text("Consultazioni")
    screenshot(page, "05-italian-home")


@pytest.mark.parametrize("path", ["/", "CONSULTATION", "/login", "/events/", "/events/1", "/consultations/1/summary",
                                  "/accessibility"])
def test_pages_have_no_serious_accessibility_violations(live_server, page, path):
    base = live_server["url"]
    if path == "CONSULTATION":
        open_demo_consultation(page, base)
    else:
        page.goto(base + path)
    violations = axe_violations(page)
    assert violations == [], violations
