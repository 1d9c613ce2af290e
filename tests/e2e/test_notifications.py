"""Notifications in Chromium, two people in two browsers: Eva reads her profile (a page with no
live stream of its own); Amina replies to Eva's response with the ordinary form; Eva's bell
counts one more without a reload, in words for screen readers; she opens the notifications
page, follows the notice and lands on Amina's reply, which is then read (the bell drops).
axe-core finds nothing serious on the notifications page. Every wait is on a condition."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from forum.demo import ORGANISER_EMAIL
from tests.e2e.conftest import axe_violations, live_app, screenshot, signed_in_pages
from tests.e2e.test_breakout import PARTICIPANT_PASSWORD

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "eva": ("eva.lindqvist@norrvik-uni.example", PARTICIPANT_PASSWORD),
    "amina": ("amina.diallo@passerelles-solidaires.example", PARTICIPANT_PASSWORD),
}


@pytest.fixture
def eva_response(live_server):
    """A consultation of the test's own with a response by Eva: (consultation id, post id)."""
    from forum.models.users import find_user_by_email
    from forum.services import consultations, posts

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ORGANISER_EMAIL)
        consultation = consultations.create_consultation(organiser, consultations.ConsultationInput(
            title=f"Childcare in rural areas {secrets.token_hex(3)}"))
        consultations.add_topic(organiser, consultation, consultations.TopicInput(title="Opening hours"))
        consultations.set_status(organiser, consultation, "open")
        response = posts.create_post(find_user_by_email(ACCOUNTS["eva"][0]), consultation,
                                     topic_id=consultation.topics[0].id, body="Crèches should open at 7.")
        return consultation.id, response.id


def unread(page) -> int:
    text = page.locator("[data-bell-text]").text_content()
    found = re.search(r"(\d+) unread", text)
    return int(found.group(1)) if found else 0


def test_a_reply_raises_the_other_persons_bell_live_and_the_notice_leads_to_it(live_server, browser, eva_response):
    base = live_server["url"]
    consultation_id, response_id = eva_response
    with signed_in_pages(browser, base, ACCOUNTS) as pages:
        eva, amina = pages["eva"], pages["amina"]
        eva.goto(base + "/profile")
        before = unread(eva)
        eva.evaluate("() => { window.plenaryTestMark = true; }")
        # The bell's socket is up (the profile page has no stream: bell.js loaded the client).
        eva.wait_for_function("() => typeof window.io === 'function'")

        amina.goto(f"{base}/consultations/{consultation_id}/posts/{response_id}/reply")
        amina.get_by_label("Your reply").fill("Seven is early for staff: what about 7:30?")
        amina.get_by_role("button", name="Publish reply").click()
        expect(amina.locator(".flash-success")).to_be_visible()

        bell = eva.get_by_role("link", name=re.compile(r"^Notifications"))
        expect(bell).to_have_accessible_name(f"Notifications, {before + 1} unread")
        expect(eva.locator("[data-bell-count]")).to_have_text(str(before + 1))
        assert eva.evaluate("() => window.plenaryTestMark === true")  # no reload
        screenshot(eva, "notifications-bell-live")

        bell.click()
        expect(eva).to_have_url(re.compile(r"/notifications$"))
        notice = eva.locator(".notification").first
        expect(notice).to_contain_text("Unread")
        expect(notice).to_contain_text("replied to your post")
        assert axe_violations(eva) == []
        screenshot(eva, "notifications-page")

        notice.get_by_role("link").click()
        expect(eva).to_have_url(re.compile(rf"/consultations/{consultation_id}/posts/{response_id}#post-\d+$"))
        reply_id = eva.url.rsplit("#post-", 1)[1]
        expect(eva.locator(f"#post-{reply_id}")).to_contain_text("what about 7:30?")
        expect(eva.get_by_role("link", name=re.compile(r"^Notifications"))).to_have_accessible_name(
            f"Notifications, {before} unread" if before else "Notifications")
