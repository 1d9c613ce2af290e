"""Two people on one consultation in Chromium: posts appear live without a reload, what
is posted while the server is down appears once it is back (a page of events at a time, or,
past the catch-up threshold, by reloading the page), and a deleted post's words leave the
quotes of it on open pages."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    BIN,
    ROOT,
    SECRET_KEY,
    TIMEOUT_MS,
    _free_port,
    _wait_until_up,
    copy_demo_database,
    new_page,
    open_actions,
    screenshot,
    server_env,
)

pytestmark = pytest.mark.e2e
PARTICIPANTS = ["amina.diallo@passerelles-solidaires.example", "jonas.weber@neuhafen-stadt.example"]
PASSWORD = "plenary-participant-demo"


class RestartableServer:
    """gunicorn (gevent worker) on a fixed port, so that browsers reconnect to the same address."""

    def __init__(self, workdir: Path, demo_database: dict, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = copy_demo_database(demo_database, workdir)  # a copy of its own to change
        self.env = {**server_env(self.database_url), **env}
        self.log = open(workdir / "server.log", "a")
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--worker-class", "gevent", "--workers", "1",
             "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_until_up(self.url + "/", self.process)

    def kill(self) -> None:
        """As in a crash: the master and its worker die at once, sockets are cut."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def server(request, tmp_path, demo_database):
    """A restartable server; `@pytest.mark.parametrize("server", [{"NAME": "value"}], indirect=True)`
    adds environment variables (configuration) of the test's own."""
    server = RestartableServer(tmp_path, demo_database, **getattr(request, "param", {}))
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()
    server.log.close()


def post_while_down(server: RestartableServer, consultation_id: int, bodies: list[str],
                    edits: dict[str, str] | None = None) -> None:
    """Write through the services straight into the database, as another server would; then
    edit the posts named in `edits` (body -> new body)."""
    from forum import create_app
    from forum.extensions import db
    from forum.models import Consultation
    from forum.models.users import find_user_by_email
    from forum.services import posts

    app = create_app({"SQLALCHEMY_DATABASE_URI": server.database_url, "SOCKETIO_ASYNC_MODE": "threading",
                      "SOCKETIO_MESSAGE_QUEUE": None, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        author = find_user_by_email(PARTICIPANTS[0])
        consultation = db.session.get(Consultation, consultation_id)
        made = {body: posts.create_post(author, consultation, topic_id=consultation.topics[0].id, body=body)
                for body in bodies}
        db.session.commit()
        for body, new_body in (edits or {}).items():
            posts.edit_post(author, made[body], subject="", body=new_body)
        db.session.commit()
        db.engine.dispose()


def demo_app(server):
    from forum import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": server.database_url, "SOCKETIO_ASYNC_MODE": "threading",
                       "SOCKETIO_MESSAGE_QUEUE": None, "SECRET_KEY": "e2e-live"})


def room_path(server, title: str) -> tuple[str, int]:
    """The path of the demo event's room called `title`, and its id."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Room

    app = demo_app(server)
    with app.app_context():
        room = db.session.scalar(select(Room).where(Room.title == title))
        path = f"/events/{room.event_id}/rooms/{room.id}"
        db.engine.dispose()
        return path, room.id


def post_in_room_while_down(server, room_id: int, email: str, bodies: list[str]) -> None:
    from forum.extensions import db
    from forum.models import Room
    from forum.models.users import find_user_by_email
    from forum.services import posts

    app = demo_app(server)
    with app.app_context():
        author, room = find_user_by_email(email), db.session.get(Room, room_id)
        for body in bodies:
            posts.post_in_room(author, room, body=body)
        db.session.commit()
        db.engine.dispose()


def open_as(browser, server, email):
    context, page = new_page(browser)
    page.goto(server.url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(server.url + "/?phase=open")
    page.locator(".consultation-card .card-title a").first.click()
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    return context, page


def test_posts_appear_live_and_nothing_is_lost_across_a_server_restart(browser, server):
    (context_a, a), (context_b, b) = (open_as(browser, server, email) for email in PARTICIPANTS)
    consultation_id = int(a.url.split("/consultations/")[1].split("?")[0].split("#")[0])
    expect(b.locator("[data-presence-count]")).to_have_text("2 here now")
    # What arrives is highlighted for a few seconds: record the classes each arrival had when
    # it was added, rather than race the highlight's end on a slow machine.
    b.evaluate("""() => {
        window.arrivedClasses = [];
        new MutationObserver(records => records.forEach(record => record.addedNodes.forEach(node => {
            if (node.nodeType !== 1) return;
            const post = node.matches("article.post") ? node : node.querySelector("article.post");
            if (post) window.arrivedClasses.push([post.textContent, post.className]);
        }))).observe(document.body, {childList: true, subtree: true});
    }""")

    # The counts B's page shows, before A responds.
    total = int(b.locator("[data-count=responses]").inner_text().split()[0])
    topic_id = a.locator("#topic_id option").nth(2).get_attribute("value")
    in_topic = int(b.locator(f"[data-count-topic='{topic_id}']").inner_text().split()[0])

    # A responds; B sees it without reloading, announced to screen readers, with B's own buttons.
    a.locator("#topic_id").select_option(index=2)
    a.get_by_label("Your response").fill("Live: our region co-finances childcare during language courses.")
    a.get_by_role("button", name="Publish response").click()
    arrived = b.locator("article.post", has_text="our region co-finances childcare")
    expect(arrived).to_have_count(1)
    assert [classes for text, classes in b.evaluate("window.arrivedClasses")
            if "our region co-finances childcare" in text] == ["post post-new"]
    expect(arrived.get_by_role("button", name="Endorse")).to_be_visible()
    expect(arrived.get_by_role("link", name="Edit")).to_be_hidden()
    expect(b.locator("[data-live-announcer]")).to_have_text("New response from Amina Diallo")
    expect(a.get_by_label("Your response")).to_have_value("")
    # B's counts follow, as the server counted them, in words: the total, the topic's, the filter's.
    expect(b.locator("[data-count=responses]")).to_have_text(f"{total + 1} responses")
    expect(b.locator("[data-count=read]")).to_have_text(f"Read {total + 1} responses")
    expect(b.locator(f"[data-count-topic='{topic_id}']")).to_have_text(
        f"{in_topic + 1} response" + ("" if in_topic == 0 else "s"))
    expect(b.locator(f"#filter-topic option[value='{topic_id}']")).to_contain_text(f"({in_topic + 1})")
    screenshot(b, "live-01-arrived")

    # B has scrolled down to read: the page does not jump, a bar offers the new post instead.
    b.locator("footer.site-footer").scroll_into_view_if_needed()
    a.get_by_label("Your response").fill("Second live response, while B reads further down.")
    a.get_by_role("button", name="Publish response").click()
    bar = b.locator("[data-new-posts]")
    expect(bar).to_have_text("1 new post: show it")
    expect(b.locator("article.post", has_text="Second live response")).to_have_count(0)
    bar.click()
    expect(b.locator("article.post", has_text="Second live response")).to_be_in_viewport()
    expect(bar).to_be_hidden()

    # B goes back to the top of the list, where what arrives is shown at once (further down, it
    # waits behind the bar, as above).
    b.evaluate("window.scrollTo({top: 0, behavior: 'instant'})")
    b.wait_for_function("window.scrollY === 0")

    # The server goes away: the pages say so; posts are made meanwhile; it comes back.
    server.kill()
    expect(b.locator("[data-live-status]")).to_have_attribute("data-state", "reconnecting")
    screenshot(b, "live-02-reconnecting")
    # The second is edited before the reader is back: its creation is superseded, and the
    # edit is the first the page hears of it.
    post_while_down(server, consultation_id, ["Written while the server was down (1).", "A first draft."],
                    edits={"A first draft.": "Written while the server was down (2)."})
    server.start()
    # Reconnecting waits for the client's back-off (up to seconds) after a restart under load.
    expect(b.locator("[data-live-status]")).to_have_attribute("data-state", "live", timeout=2 * TIMEOUT_MS)
    for n in (1, 2):
        expect(b.locator("article.post", has_text=f"Written while the server was down ({n}).")).to_have_count(1)
    expect(b.locator("body")).not_to_contain_text("A first draft.")
    expect(bar).to_be_hidden()
    # In order, newest first, and nothing twice.
    texts = b.locator(".thread-list > li > article.post .post-body").all_inner_texts()
    assert texts[:4] == ["Written while the server was down (2).", "Written while the server was down (1).",
                         "Second live response, while B reads further down.",
                         "Live: our region co-finances childcare during language courses."]
    assert len(texts) == len(set(texts))
    screenshot(b, "live-03-caught-up")

    # B quotes one of A's posts; A deletes it: B's open page drops its words from the quote.
    quoted = b.locator("article.post", has_text="Written while the server was down (1).")
    open_actions(quoted)
    quoted.get_by_role("link", name="Quote").click()
    expect(b.get_by_label("Quote this post above my reply")).to_be_checked()
    b.get_by_label("Your reply").fill("Quoting this: the timing matters.")
    b.get_by_role("button", name="Publish reply").click()
    b.goto(f"{server.url}/consultations/{consultation_id}")
    expect(b.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    quote = b.locator("article.post", has_text="Quoting this: the timing matters.").locator("blockquote.quote")
    expect(quote).to_contain_text("Amina Diallo wrote:")
    expect(quote).to_contain_text("Written while the server was down (1).")
    own = a.locator("article.post", has_text="Written while the server was down (1).").first
    open_actions(own)
    own.get_by_role("link", name="Delete").click()
    a.get_by_role("button", name="Delete").click()
    expect(quote).to_have_text("This post was deleted.")
    expect(b.locator("body")).not_to_contain_text("Written while the server was down (1).")
    screenshot(b, "live-04-quote-of-a-deleted-post")
    context_a.close()
    context_b.close()


@pytest.mark.parametrize("server", [{"CATCH_UP_RELOAD_AFTER": "80"}], indirect=True)
def test_a_reader_away_for_more_than_a_page_gets_every_post_and_past_the_threshold_reloads(browser, server):
    context, page = open_as(browser, server, PARTICIPANTS[1])
    consultation_id = int(page.url.split("/consultations/")[1].split("?")[0].split("#")[0])
    texts = page.locator(".thread-list > li > article.post .post-body")

    # 60 posts while the reader is away: more than one page (50) of catch-up.
    server.kill()
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "reconnecting")
    post_while_down(server, consultation_id, [f"Away, post {n}." for n in range(1, 61)])
    page.evaluate("window.plenaryNotReloaded = true")
    server.start()
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live", timeout=30_000)
    expect(page.locator("article.post", has_text="Away, post 60.")).to_have_count(1)
    # All of them, newest first, once each, without a reload.
    assert texts.all_inner_texts()[:60] == [f"Away, post {n}." for n in range(60, 0, -1)]
    assert page.evaluate("window.plenaryNotReloaded") is True
    screenshot(page, "live-04-caught-up-in-pages")

    # More than the threshold (80): the page reloads instead of replaying them.
    server.kill()
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "reconnecting")
    post_while_down(server, consultation_id, [f"Long away, post {n}." for n in range(1, 82)])
    with page.expect_navigation(timeout=30_000):  # the reload, once the socket is back
        server.start()
    assert page.evaluate("window.plenaryNotReloaded") is None
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live", timeout=30_000)
    # The reloaded page shows the newest posts (its first page), and is live again.
    expect(texts.first).to_have_text("Long away, post 81.")
    screenshot(page, "live-05-reloaded")
    context.close()


@pytest.mark.parametrize("server", [{"CATCH_UP_RELOAD_AFTER": "80"}], indirect=True)
def test_a_moderator_away_from_a_room_catches_up_both_streams_in_pages_and_past_the_threshold_reloads(
        browser, server):
    path, room_id = room_path(server, "Language learning and community life")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(server.url + "/login")
    page.get_by_label("Email address").fill("moderator.lea@plenary.example")
    page.get_by_label("Password").fill("plenary-moderator-demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(server.url + path)
    status = page.locator("[data-live-status]")
    expect(status).to_have_attribute("data-state", "live")
    messages = page.locator(f'[data-list-stream="room:{room_id}"] > li.message')

    # A co-moderator writes 60 messages while the page is cut off: more than a page (50).
    server.kill()
    expect(status).to_have_attribute("data-state", "reconnecting")
    post_in_room_while_down(server, room_id, "moderator.dimitris@plenary.example",
                            [f"Room, while away {n}." for n in range(1, 61)])
    page.evaluate("window.plenaryNotReloaded = true")
    server.start()
    expect(status).to_have_attribute("data-state", "live", timeout=30_000)
    expect(messages.filter(has_text="Room, while away 60.")).to_have_count(1)
    away = [text for text in messages.locator(".post-body").all_inner_texts() if "while away" in text]
    assert away == [f"Room, while away {n}." for n in range(1, 61)]  # in order, once each
    assert page.evaluate("window.plenaryNotReloaded") is True

    # More than the threshold (80): the page reloads instead of replaying them.
    server.kill()
    expect(status).to_have_attribute("data-state", "reconnecting")
    post_in_room_while_down(server, room_id, "moderator.dimitris@plenary.example",
                            [f"Room, long away {n}." for n in range(1, 82)])
    with page.expect_navigation(timeout=30_000):
        server.start()
    expect(status).to_have_attribute("data-state", "live", timeout=30_000)
    expect(messages.filter(has_text="Room, long away 81.")).to_have_count(1)
    screenshot(page, "live-06-room-reloaded")
    context.close()
