"""The front end of search, notifications and mentions as a reader sees it, at 1280 and 390 px
(a phone), on the shared demo server (nothing is changed on it):

- the header: in one row on a wide screen; on a phone the search box has a row of its own,
  full width, and no navigation word is broken over two lines, on the room page either;
- follow buttons and "Mark all as read" are forms in a div, not in a paragraph (a <p> may not
  hold a <form>: the parser ends it there and the buttons fell onto a line of their own);
- the mention list opens below a reply form's text (the page scrolls to show it) and above
  the room's composer (at the bottom of a screen-high chat), and a key pressed while an input
  method composes (isComposing) neither chooses nor closes it;
- axe finds nothing serious on the people, following and thread pages.
Every wait is on a condition."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, page_opener, screenshot
from tests.e2e.test_breakout import PARTICIPANT_PASSWORD, ROOM_TITLE
from tests.e2e.test_room_keyboard import path_of

pytestmark = pytest.mark.e2e
EVA = ("eva.lindqvist@norrvik-uni.example", PARTICIPANT_PASSWORD)  # a participant of room 3
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}

# Every element of the header's navigation whose words take more than one line.
BROKEN_NAV_ITEMS = """() => [...document.querySelectorAll('.site-nav li')].filter(li => {
    const lines = li.getBoundingClientRect().height / parseFloat(getComputedStyle(li).lineHeight);
    return lines > 1.6;
}).map(li => li.textContent.trim())"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# A form written inside a <p> ends up after it: the parser closes the paragraph at <form>, and
# the "</p>" after the form opens an empty one, with no attributes (unlike the empty live
# regions scripts fill). Such paragraphs in the page's main part:
FORMS_IN_PARAGRAPHS = """() => [...document.querySelectorAll('main p')].filter(
    p => !p.attributes.length && !p.children.length && !p.textContent.trim()).length"""


@pytest.fixture(scope="module")
def places(live_server):
    """Paths: room 3, an open public consultation and one of its responses (a thread)."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Consultation, Post
    from forum.models.consultations import ConsultationStatus, Visibility

    with live_app(live_server["database_url"]):
        consultation = db.session.scalar(select(Consultation).where(
            Consultation.status == ConsultationStatus.OPEN, Consultation.visibility == Visibility.PUBLIC)
            .order_by(Consultation.id))
        response = db.session.scalar(select(Post).where(
            Post.consultation_id == consultation.id, Post.parent_id.is_(None), Post.room_id.is_(None))
            .order_by(Post.id))
        paths = {"consultation": f"/consultations/{consultation.id}",
                 "thread": f"/consultations/{consultation.id}/posts/{response.id}"}
    paths["room"] = path_of(live_server["demo_output"], rf"Room 3: {re.escape(ROOM_TITLE)} \(Open\)")
    return paths


def header_rows(page) -> int:
    """How many rows the header's parts (brand, search, navigation, language) take: their
    middles, to a rem (they are centred in a row, whatever their heights)."""
    return page.evaluate("""() => new Set([...document.querySelector('.header-inner').children]
        .filter(e => e.getBoundingClientRect().height > 0)
        .map(e => { const r = e.getBoundingClientRect(); return Math.round((r.top + r.height / 2) / 16); })).size""")


def test_the_header_fits_a_wide_screen_and_a_phone(browser, live_server, places):
    with page_opener(browser, live_server["url"]) as open_page:
        wide = open_page(*EVA, viewport=WIDE, javascript=True)
        wide.goto(live_server["url"] + "/")
        expect(wide.locator("[data-bell]")).to_be_visible()
        assert header_rows(wide) == 1
        phone = open_page(*EVA, viewport=PHONE)
        phone.goto(live_server["url"] + "/")
        search = phone.get_by_role("search", name="Search Plenary").get_by_role("searchbox", name="Words to find")
        expect(search).to_be_visible()
        box = search.bounding_box()
        assert box["width"] >= 0.6 * PHONE["width"], box  # a row of its own, not a sliver
        assert phone.evaluate(OVERFLOW) == 0
        assert phone.evaluate(BROKEN_NAV_ITEMS) == []
        # The bell's name says the count, as its badge shows it.
        count = phone.locator("[data-bell-count]").inner_text()
        expect(phone.locator("[data-bell]")).to_have_accessible_name(
            re.compile(rf"^Notifications(, {count} unread)?$"))
        search.fill("integration")
        search.press("Enter")
        expect(phone.locator("#search-count")).to_contain_text("integration")
        screenshot(phone, "header-search-phone")
        # The room: the site's header in one row, its words whole (scrolled if need be).
        phone.goto(live_server["url"] + places["room"])
        expect(phone.locator("[data-live-status]").first).to_have_attribute("data-state", "live")
        assert phone.evaluate(BROKEN_NAV_ITEMS) == []
        assert phone.evaluate(OVERFLOW) == 0
        screenshot(phone, "room-header-phone")


@pytest.mark.parametrize("javascript", [True, False])
def test_follow_buttons_and_notification_actions_are_not_in_paragraphs(browser, live_server, places, javascript):
    with page_opener(browser, live_server["url"]) as open_page:
        page = open_page(*EVA, viewport=WIDE, javascript=javascript)
        for path in (places["consultation"], places["thread"], "/notifications", "/notifications/following"):
            page.goto(live_server["url"] + path)
            assert page.evaluate(FORMS_IN_PARAGRAPHS) == 0, path
        page.goto(live_server["url"] + places["consultation"])
        # The consultation's Follow button sits in the row of the page's other buttons.
        follow = page.locator("button[data-follow=consultation]")
        read = page.locator(".consultation-head a[data-count=read]")
        assert abs(follow.bounding_box()["y"] - read.bounding_box()["y"]) < 4
        page.goto(live_server["url"] + "/notifications")
        mark_all = page.get_by_role("button", name="Mark all as read")
        if mark_all.count():
            settings = page.get_by_role("link", name="Notification settings")
            assert abs(mark_all.bounding_box()["y"] - settings.bounding_box()["y"]) < 20


def test_new_pages_pass_axe(browser, live_server, places):
    with page_opener(browser, live_server["url"]) as open_page:
        page = open_page(*EVA, viewport=PHONE)
        for path in ("/people/amina.diallo", "/notifications/following", "/notifications", places["thread"],
                     "/search?q=integration&kind=post"):
            page.goto(live_server["url"] + path)
            assert axe_violations(page) == [], path
            assert page.evaluate(OVERFLOW) == 0, path


def open_mentions(page, area, typed: str):
    area.click()
    area.press_sequentially(typed)
    listbox = page.locator(f"#{area.get_attribute('aria-controls')}")
    expect(listbox.get_by_role("option").first).to_be_visible()
    return listbox


def test_the_mention_list_opens_where_it_is_seen_and_waits_for_an_input_method(browser, live_server, places):
    with page_opener(browser, live_server["url"]) as open_page:
        page = open_page(*EVA, viewport=WIDE)
        page.goto(live_server["url"] + places["thread"] + "/reply")
        area = page.locator("textarea[data-mentions]")
        listbox = open_mentions(page, area, "Thanks @a")
        # Below the text (not over the field's label and the quoted post), in view.
        assert listbox.bounding_box()["y"] >= area.bounding_box()["y"] + area.bounding_box()["height"] - 1
        expect(listbox).to_be_in_viewport()
        # An Enter that ends an input method's composition is the method's, not the list's.
        page.evaluate("""(el) => el.dispatchEvent(new KeyboardEvent('keydown',
            {key: 'Enter', isComposing: true, bubbles: true, cancelable: true}))""", area.element_handle())
        expect(area).to_have_value("Thanks @a")
        expect(area).to_have_attribute("aria-expanded", "true")
        area.press("Escape")
        expect(area).to_have_attribute("aria-expanded", "false")

        page.goto(live_server["url"] + places["room"])
        expect(page.locator("[data-live-status]").first).to_have_attribute("data-state", "live")
        area = page.locator("textarea[data-mentions]")
        listbox = open_mentions(page, area, "@l")
        # The composer is at the bottom of the screen: the list opens above it.
        assert listbox.bounding_box()["y"] + listbox.bounding_box()["height"] <= area.bounding_box()["y"] + 1
        expect(listbox).to_be_in_viewport()
        screenshot(page, "mentions-room-above")
