"""A room by keyboard, in Chromium, on a demo server of its own (other browser tests change
the demo's rooms): the message box is a few Tab presses away however many messages there are,
focus stays on the message a moderator acted on (with and without JavaScript), typing shows,
and the room's moderators unmute from the room page, live for each other."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, page_opener, screenshot, serve_demo
from tests.e2e.test_breakout import MODERATOR_PASSWORD, PARTICIPANT_PASSWORD, ROOM_TITLE

pytestmark = pytest.mark.e2e
ACCOUNTS = {
    "lea": ("moderator.lea@plenary.example", MODERATOR_PASSWORD),
    "dimitris": ("moderator.dimitris@plenary.example", MODERATOR_PASSWORD),
    "eva": ("eva.lindqvist@norrvik-uni.example", PARTICIPANT_PASSWORD),
}


def path_of(demo_output: str, pattern: str) -> str:
    """The path of a room, from the logins `flask demo` printed."""
    match = re.search(pattern + r" (http://\S+)", demo_output)
    assert match, demo_output
    return "/" + match.group(1).split("/", 3)[3]


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_database):
    with serve_demo(tmp_path_factory.mktemp("room-keyboard"), demo_database) as running:
        running["room"] = path_of(running["demo_output"], rf"Room 3: {re.escape(ROOM_TITLE)} \(Open\)")
        yield running


@pytest.fixture
def open_room(browser, server):
    """open_room(name, javascript=True) -> a page of that person on room 3, logged in."""
    with page_opener(browser, server["url"]) as open_page:
        yield lambda name, javascript=True: open_page(*ACCOUNTS[name], server["room"], javascript=javascript)


def tab_presses_to_the_message_box(page) -> int:
    """From the top of the page, Tab until the message box has the focus; a skip link on the
    way is followed (Enter), as a keyboard user would."""
    page.evaluate("() => { window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); }")
    for presses in range(1, 301):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('[data-skip-compose]')"):
            page.keyboard.press("Enter")
        if page.evaluate("() => document.activeElement.matches('textarea[name=body]')"):
            return presses
    raise AssertionError("the message box was not reached in 300 Tab presses")


def send(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
    expect(page.locator("[data-message-list]").get_by_text(text)).to_be_visible()


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement.id")


def test_the_message_box_is_a_few_tab_presses_away_however_long_the_room(open_room):
    eva, lea = open_room("eva"), open_room("lea")
    before = {"eva": tab_presses_to_the_message_box(eva), "lea": tab_presses_to_the_message_box(lea)}
    assert max(before.values()) <= 3, before
    for n in range(8):
        send(eva, f"Another thought, number {n}.")
    lea.reload()
    eva.reload()
    expect(lea.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    after = {"eva": tab_presses_to_the_message_box(eva), "lea": tab_presses_to_the_message_box(lea)}
    assert after == before
    # Crossing the messages themselves costs a few stops each: the time, "in reply to" on a
    # reply, Agree, Actions.
    stops = lea.evaluate("""() => {
        const list = '[data-list-stream^="room:"]:not([data-list-stream$="moderators"])';
        const items = [...document.querySelectorAll(list + ' > li.message')];
        const focusable = 'a[href], button, summary, input:not([type=hidden]), select, textarea';
        return items.map(li => [...li.querySelectorAll(focusable)].filter(el => el.checkVisibility()).length);
    }""")
    assert stops and max(stops) <= 4, stops
    assert axe_violations(eva) == []
    assert axe_violations(lea) == []


def test_focus_stays_on_the_message_after_pin_and_hide(open_room):
    eva, lea = open_room("eva"), open_room("lea")
    send(eva, "Pin me, then hide me.")
    message = lea.locator("[data-message-list] li.message", has_text="Pin me, then hide me.")
    message_id = message.get_attribute("id")

    # By keyboard: open the message's actions, Pin.
    message.locator("summary", has_text="Actions").focus()
    lea.keyboard.press("Enter")
    message.get_by_role("button", name=re.compile("^Pin")).focus()
    lea.keyboard.press("Enter")
    expect(lea.locator(f"#{message_id}.message-pinned")).to_be_visible()
    expect(lea.locator(f"#{message_id}")).to_be_focused()

    # Hide, with a reason typed and Enter.
    message.locator("summary", has_text="Actions").focus()
    lea.keyboard.press("Enter")
    message.locator("summary", has_text="Hide…").focus()
    lea.keyboard.press("Enter")
    message.get_by_label("Reason, told to the author").fill("Testing the keyboard path.")
    lea.keyboard.press("Enter")
    expect(message).to_contain_text("Hidden from participants. Reason: Testing the keyboard path.")
    expect(lea.locator(f"#{message_id}")).to_be_focused()
    assert focused_id(lea) == message_id
    screenshot(lea, "room-keyboard-focus-after-hide")


def test_without_javascript_focus_comes_back_to_the_message(open_room):
    eva = open_room("eva")
    send(eva, "Pin me without JavaScript.")
    lea = open_room("lea", javascript=False)
    message = lea.locator("[data-message-list] li.message", has_text="Pin me without JavaScript.")
    message_id = message.get_attribute("id")
    message.locator("summary", has_text="Actions").click()
    message.get_by_role("button", name=re.compile("^Pin")).click()
    expect(lea).to_have_url(re.compile(f"#{message_id}$"))
    expect(lea.locator(f"#{message_id}")).to_be_focused()
    expect(lea.locator(f"#{message_id}")).to_have_class(re.compile("message-pinned"))


def test_rooms_show_who_is_typing_and_moderators_unmute_from_the_room(open_room):
    eva, lea, dimitris = open_room("eva"), open_room("lea"), open_room("dimitris")
    eva.get_by_label("Your message").press_sequentially("I am typing something")
    expect(lea.locator("[data-typing][data-typing-stream^='room:']").first).to_have_text(
        "Eva Lindqvist is typing…")

    # Léa mutes Eva from one of her messages; Dimitris sees it at once, with the time.
    send(eva, "Mute me, please.")
    message = lea.locator("[data-message-list] li.message", has_text="Mute me, please.")
    message.locator("summary", has_text="Actions").click()
    message.locator("summary", has_text="Mute…").click()
    message.get_by_role("button", name="Mute", exact=True).click()
    mutes = dimitris.locator("[data-panel=mutes]")
    expect(mutes).to_contain_text("Eva Lindqvist, until")
    expect(eva.get_by_role("alert").filter(has_text="A moderator has muted you")).to_be_visible()
    screenshot(dimitris, "room-moderator-mutes")

    # Dimitris unmutes her from the room page (the console's "Muted" tab, counting her); Léa's
    # list and Eva's page follow, live.
    muted_tab = dimitris.get_by_role("tab", name=re.compile("^Muted"))
    expect(muted_tab.locator("[data-tab-count]")).to_have_text("1")
    muted_tab.click()
    mutes.get_by_role("button", name="Unmute Eva Lindqvist").click()
    expect(lea.locator("[data-panel=mutes]")).to_contain_text("Nobody is muted.")
    expect(dimitris.locator("[data-panel=mutes]")).to_contain_text("Nobody is muted.")
    expect(eva.get_by_role("alert").filter(has_text="You can post in this room again.")).to_be_visible()


def test_agreement_counts_follow_in_words_on_the_authors_page(open_room):
    eva, lea = open_room("eva"), open_room("lea")
    send(eva, "Count the people who agree with me.")
    own = eva.locator("[data-message-list] li.message", has_text="Count the people who agree with me.")
    theirs = lea.locator("[data-message-list] li.message", has_text="Count the people who agree with me.")
    theirs.get_by_role("button", name=re.compile("^Agree")).click()
    # Eva cannot agree with herself: she reads the count in words, as the server wrote them.
    expect(own.locator(".endorse-count")).to_have_text("1 agrees")
    expect(own.locator(".endorse-count")).to_be_visible()
    # Lea's own view (her agreement pressed) is fetched again: withdrawing needs it.
    expect(theirs.get_by_role("button", name=re.compile("^Agree"))).to_have_attribute("aria-pressed", "true")
    theirs.get_by_role("button", name=re.compile("^Agree")).click()  # withdrawn
    expect(own.locator(".endorse-count")).to_be_hidden()


def test_agreeing_by_keyboard_keeps_the_focus_on_the_button(open_room):
    eva, lea = open_room("eva"), open_room("lea")
    send(eva, "Agree with me by keyboard.")
    theirs = lea.locator("[data-message-list] li.message", has_text="Agree with me by keyboard.")
    agree = theirs.get_by_role("button", name=re.compile("^Agree"))
    agree.focus()
    lea.keyboard.press("Enter")
    expect(agree).to_have_attribute("aria-pressed", "true")  # the reader's own view, fetched again
    expect(agree).to_be_focused()


def test_a_mute_that_runs_out_leaves_the_moderators_list(open_room, server):
    import sqlite3
    from datetime import datetime, timedelta, timezone

    eva, lea = open_room("eva"), open_room("lea")
    send(eva, "Mute me for a moment.")
    message = lea.locator("[data-message-list] li.message", has_text="Mute me for a moment.")
    message.locator("summary", has_text="Actions").click()
    message.locator("summary", has_text="Mute…").click()
    message.get_by_role("button", name="Mute", exact=True).click()
    expect(lea.locator("[data-panel=mutes]")).to_contain_text("Eva Lindqvist, until")
    # The mute ends in a few seconds (as if it had been set long ago); the page notices alone.
    with sqlite3.connect(server["database"]) as database:
        soon = (datetime.now(timezone.utc) + timedelta(seconds=3)).strftime("%Y-%m-%d %H:%M:%S.%f")
        assert database.execute("UPDATE mute SET until = ? WHERE until > ?", (soon, soon)).rowcount >= 1
    lea.reload()
    expect(lea.locator("[data-panel=mutes]")).to_contain_text("Eva Lindqvist, until")
    expect(lea.locator("[data-panel=mutes]")).to_contain_text("Nobody is muted.", timeout=20_000)
