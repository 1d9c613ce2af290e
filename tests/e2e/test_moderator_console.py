"""The moderators' console in Chromium, on a running event of the test's own: on a laptop
(1280×800) every pane and the chat's message box are in view at once and the page does not
scroll; on a phone (390×844) the panes are tabs, by click and by keyboard, with live counters
and a mark for unseen moderators' messages; the speaking share sorts, and "Invite to speak"
reaches the quiet participant's open page. Screenshots: /tmp/shots/console-*.png."""
from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, live_app, page_opener

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots")
ACCOUNTS = {
    "organiser": ("organiser@plenary.example", "plenary-organiser-demo"),
    "lea": ("moderator.lea@plenary.example", "plenary-moderator-demo"),
    "eva": ("eva.lindqvist@norrvik-uni.example", "plenary-participant-demo"),
    "amina": ("amina.diallo@passerelles-solidaires.example", "plenary-participant-demo"),
}
LAPTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


@pytest.fixture
def room_path(live_server) -> str:
    """A running event with one open breakout room: Léa co-moderates it; Eva has spoken a
    lot there, Amina not at all (the quiet one); Eva's hand is up."""
    from forum.models.base import utcnow
    from forum.models.users import find_user_by_email
    from forum.services import event_setup, posts, rooms

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ACCOUNTS["organiser"][0])
        now = utcnow()
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=f"Console round {secrets.token_hex(3)}", starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2), assignment_mode="manual"))
        event_setup.publish_event(organiser, event)
        room = event_setup.add_room(organiser, event, event_setup.RoomInput(title="Housing"))
        event_setup.appoint_moderator(organiser, room, ACCOUNTS["lea"][0])
        eva, amina = (find_user_by_email(ACCOUNTS[n][0]) for n in ("eva", "amina"))
        for person in (eva, amina):
            event_setup.assign_member(organiser, event_setup.register(person, event), room)
        for opened in (event.plenary, room):
            rooms.set_phase(organiser, opened, "open")
        for n in range(12):
            posts.post_in_room(eva, room, body=f"Point {n}: shared flats near the tram line help newcomers most.")
        rooms.raise_hand(eva, room)
        return f"/events/{event.id}/rooms/{room.id}"


@pytest.fixture
def open_as(browser, live_server):
    """open_as(name, path, viewport) -> that person's page on a room path, logged in, live."""
    with page_opener(browser, live_server["url"]) as open_page:
        yield lambda name, path, viewport: open_page(*ACCOUNTS[name], path, viewport=viewport)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-{name}.png"))


def share_names(page) -> list[str]:
    return page.locator("[data-share-table] tbody tr").evaluate_all("rows => rows.map(r => r.dataset.name)")


def console_in_view(page) -> None:
    """Hands, queue (with the reports) and share at once, the moderators' channel below them
    (its tab shared with the mutes and takeaways), the toolbar and the chat's message box: all
    inside the window, and the page itself does not scroll."""
    console = page.locator("[data-console-root]")
    expect(console).to_have_attribute("data-layout", "panes")
    tabs = console.get_by_role("tab")
    expect(tabs).to_have_count(3)
    assert [t.get_attribute("data-tab") for t in tabs.all()] == ["backchannel", "mutes", "takeaways"]
    expect(console.get_by_role("tab", name="Back-channel")).to_have_attribute("aria-selected", "true")
    for name in ("Raised hands", "Moderation queue", "Speaking share"):
        expect(console.get_by_role("heading", name=name)).to_be_visible()
    for name in ("Back-channel", "Muted", "Takeaways"):
        expect(console.get_by_role("tab", name=name)).to_be_visible()
    # Once the page has settled (it fetches its panels again when it goes live): every one of
    # these inside the window, and nothing to scroll.
    try:
        page.wait_for_function(IN_VIEW, arg=IN_VIEW_SELECTORS, timeout=10_000)
    except Exception:
        raise AssertionError(f"not all in view: {page.evaluate(WHERE, IN_VIEW_SELECTORS)}") from None


IN_VIEW_SELECTORS = [
    "#hands-heading", "#queue-heading", "#share-heading", "#console-tab-backchannel", "#console-tab-mutes",
    "#console-tab-takeaways", "#phase-wrap-up", "[id^=setting-lock-]", "[id^=slow-mode-]",
    "[id^=setting-premoderation-]", "#backchannel textarea", "#backchannel button[type=submit]", "#compose textarea",
]
WHERE = """selectors => {
    const where = {page: [document.documentElement.scrollHeight, window.innerHeight]};
    for (const s of selectors) {
        const r = document.querySelector(s) && document.querySelector(s).getBoundingClientRect();
        where[s] = r ? [Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom)] : null;
    }
    return where;
}"""
IN_VIEW = """selectors => {
    if (document.documentElement.scrollHeight > window.innerHeight + 1) return false;
    return selectors.every(s => {
        const el = document.querySelector(s);
        const r = el && el.getBoundingClientRect();
        return r && r.width > 0 && r.left >= 0 && r.top >= 0
            && r.right <= window.innerWidth + 0.5 && r.bottom <= window.innerHeight + 0.5;
    });
}"""


def test_on_a_laptop_every_pane_and_the_message_box_are_in_view_without_scrolling(open_as, room_path):
    lea = open_as("lea", room_path, LAPTOP)
    shot(lea, "laptop")
    console_in_view(lea)
    assert axe_violations(lea) == []


def test_the_share_sorts_and_invites_the_quiet_one_to_speak(open_as, room_path):
    amina = open_as("amina", room_path, PHONE)
    lea = open_as("lea", room_path, LAPTOP)
    share = lea.locator("[data-share-table]")
    assert share_names(lea) == ["Eva Lindqvist", "Amina Diallo"]  # the server's order: most words first
    expect(share.locator("th[aria-sort]")).to_have_attribute("data-sort-key", "words")

    share.get_by_role("button", name="Participant").click()
    expect(share.locator("th[data-sort-key=name]")).to_have_attribute("aria-sort", "ascending")
    assert share_names(lea) == ["Amina Diallo", "Eva Lindqvist"]
    share.get_by_role("button", name="Participant").click()
    expect(share.locator("th[data-sort-key=name]")).to_have_attribute("aria-sort", "descending")
    assert share_names(lea) == ["Eva Lindqvist", "Amina Diallo"]
    share.get_by_role("button", name="Messages").press("Enter")
    expect(share.locator("th[data-sort-key=posts]")).to_have_attribute("aria-sort", "descending")
    expect(share.locator("th[data-sort-key=name]")).not_to_have_attribute("aria-sort", "descending")
    assert share_names(lea) == ["Eva Lindqvist", "Amina Diallo"]
    share.get_by_role("button", name="Messages").click()
    assert share_names(lea) == ["Amina Diallo", "Eva Lindqvist"]

    invite = share.get_by_role("button", name="Invite to speak Amina Diallo")
    invite.click()
    notice = amina.get_by_role("alert").filter(has_text="A moderator invites you to speak")
    expect(notice).to_be_visible()
    shot(amina, "participant-invited")
    # Focus stays in the share table (the panel is fetched again when Amina speaks).
    assert lea.evaluate("() => !!document.activeElement.closest('[data-pane=share]')")
    amina.get_by_label("Your message").fill("Thank you: I would add evening classes.")
    amina.get_by_label("Your message").press("Enter")
    expect(share.locator("tbody tr[data-name='Amina Diallo'] td").first).to_have_text("1")
    # The sort chosen holds across the refresh.
    expect(share.locator("th[data-sort-key=posts]")).to_have_attribute("aria-sort", "ascending")


def test_on_a_phone_the_panes_are_tabs_by_click_and_by_keyboard(open_as, room_path):
    lea = open_as("lea", room_path, PHONE)
    organiser = open_as("organiser", room_path, LAPTOP)
    amina = open_as("amina", room_path, PHONE)
    # On a phone the side column may be the page's second view (its link says "Moderation").
    moderation_view = lea.locator("a[data-room-tab=aside]")
    if moderation_view.count() and moderation_view.is_visible():
        moderation_view.click()
    console = lea.locator("[data-console-root]")
    expect(console).to_have_attribute("data-layout", "tabs")
    tabs = console.get_by_role("tab")
    expect(tabs).to_have_count(6)
    hands_tab = console.get_by_role("tab", name="Hands")
    expect(hands_tab).to_have_attribute("aria-selected", "true")
    expect(hands_tab).to_contain_text("1")  # Eva's hand: the live counter
    expect(console.get_by_role("tabpanel")).to_have_count(1)
    expect(console.get_by_role("tabpanel")).to_contain_text("Eva Lindqvist")

    # A hand more: the counter follows, live.
    amina.get_by_role("button", name="Raise my hand").click()
    expect(hands_tab.locator("[data-tab-count]")).to_have_text("2")

    # By click.
    console.get_by_role("tab", name="Share").click()
    expect(console.get_by_role("tab", name="Share")).to_have_attribute("aria-selected", "true")
    expect(lea.locator("#share")).to_be_visible()
    expect(lea.locator("#hands")).to_be_hidden()
    shot(lea, "phone-share")

    # By keyboard: arrows move and select, Home and End go to the ends.
    console.get_by_role("tab", name="Share").focus()
    lea.keyboard.press("ArrowRight")
    expect(console.get_by_role("tab", name="Back-channel")).to_be_focused()
    expect(console.get_by_role("tab", name="Back-channel")).to_have_attribute("aria-selected", "true")
    expect(lea.locator("#backchannel")).to_be_visible()
    lea.keyboard.press("End")
    expect(console.get_by_role("tab", name="Takeaways")).to_be_focused()
    lea.keyboard.press("ArrowRight")
    expect(console.get_by_role("tab", name="Hands")).to_be_focused()
    lea.keyboard.press("ArrowLeft")
    expect(console.get_by_role("tab", name="Takeaways")).to_have_attribute("aria-selected", "true")
    lea.keyboard.press("Home")
    expect(hands_tab).to_be_focused()
    expect(lea.locator("#hands")).to_be_visible()
    expect(lea.locator("#takeaways")).to_be_hidden()

    # Giving the floor keeps focus on the next hand's button, not on <body>.
    lea.keyboard.press("Tab")
    lea.keyboard.press("Tab")
    expect(lea.get_by_role("button", name="Give the floor to Eva Lindqvist")).to_be_focused()
    lea.keyboard.press("Enter")
    expect(lea.get_by_role("button", name="Give the floor to Eva Lindqvist")).to_have_count(0)
    expect(hands_tab.locator("[data-tab-count]")).to_have_text("1")
    expect(lea.get_by_role("button", name="Give the floor to Amina Diallo")).to_be_focused()

    # A message in the moderators' channel while its tab is not shown: the tab is marked.
    organiser.locator("#backchannel textarea").fill("Five more minutes, then wrap up.")
    organiser.locator("#backchannel").get_by_role("button", name="Send to moderators").click()
    mark = console.get_by_role("tab", name="Back-channel").locator("[data-tab-mark]")
    expect(mark).to_be_visible()
    shot(lea, "phone-marked")
    console.get_by_role("tab", name="Back-channel").click()
    expect(mark).to_be_hidden()
    expect(lea.locator("#backchannel")).to_contain_text("Five more minutes, then wrap up.")
    shot(lea, "phone-backchannel")
    assert axe_violations(lea) == []
