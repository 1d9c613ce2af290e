"""Events that arrive out of order, in Chromium: a page applies a stream's events in the order of
their numbers (docs/realtime.md, client rule 2). An early event waits for the gap before it to
fill; only a gap still open after the window, or too many events held, costs a `sync`.

The events are the real stored messages of posts made through the services on the server's
database: made outside the server process, they are not broadcast, so the test hands them to
the page's own socket handler itself, in the order it chooses. What the page sends is recorded
by wrapping its socket's `emit`, and a `sync` it asks for is answered by the real server."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import live_app, log_in, room_path, screenshot

pytestmark = pytest.mark.e2e
ORGANISER = ("organiser@plenary.example", "plenary-organiser-demo")

# Before the page's scripts: keep the socket the page makes, and record what it sends. The
# pages' once-a-minute sync (client rule 4) is left out: on a slow machine it would come among
# the syncs counted here.
RECORD_SOCKET = """(() => {
  const setInterval = window.setInterval;
  window.setInterval = function (callback, ms) { return ms === 60000 ? 0 : setInterval.apply(window, arguments); };
  window.sentByPage = [];
  window.socketsMade = 0;
  let io;
  function recorded() {
    const socket = io.apply(this, arguments);
    window.pageSocket = socket;
    window.socketsMade += 1;
    const emit = socket.emit;
    socket.emit = function (name, data) {
      window.sentByPage.push({name: name, data: JSON.parse(JSON.stringify(data === undefined ? null : data)),
                              at: performance.now()});
      return emit.apply(this, arguments);
    };
    return socket;
  }
  Object.defineProperty(window, "io", {configurable: true, get: () => io && recorded, set: (value) => { io = value; }});
})();"""

# Hand events to the page as its socket would (its "event" handlers), one after the other;
# after each, whether each post id of `watch` is on the page and how many syncs were sent.
DELIVER = """([events, watch]) => events.map(event => {
  window.pageSocket.listeners("event").forEach(handler => handler(event));
  const shown = watch.filter(id => document.getElementById("post-" + id) || document.getElementById("mod-" + id));
  return {seq: event.seq, shown: shown,
          syncs: window.sentByPage.filter(sent => sent.name === "sync").length, at: performance.now()};
})"""


def stored_events(database_url: str, stream: str, after: int) -> list[dict]:
    """The messages stored for `stream`'s events after `after`, as a live reader gets them."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import StreamEvent

    with live_app(database_url):
        return [payload for payload in db.session.scalars(
            select(StreamEvent.payload).where(StreamEvent.stream_key == stream, StreamEvent.seq > after)
            .order_by(StreamEvent.seq))]


def syncs_sent(page) -> list[dict]:
    return page.evaluate("window.sentByPage.filter(sent => sent.name === 'sync')")


@pytest.fixture
def consultation(live_server):
    """An open public consultation of the test's own: (id, topic id, stream)."""
    from forum.models.consultations import ConsultationStatus
    from forum.models.users import find_user_by_email
    from forum.services import consultations, events

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ORGANISER[0])
        made = consultations.create_consultation(organiser, consultations.ConsultationInput(
            title=f"Order of events {secrets.token_hex(3)}", visibility="public"))
        topic = consultations.add_topic(organiser, made, consultations.TopicInput(title="Transport"))
        consultations.set_status(organiser, made, ConsultationStatus.OPEN.value)
        return made.id, topic.id, events.consultation_stream(made)


def respond(database_url: str, consultation_id: int, topic_id: int, bodies: list[str]) -> list[int]:
    """Responses by the organiser, committed one by one (one event each); their ids."""
    from forum.extensions import db
    from forum.models import Consultation
    from forum.models.users import find_user_by_email
    from forum.services import posts

    ids = []
    with live_app(database_url):
        author = find_user_by_email(ORGANISER[0])
        for body in bodies:
            post = posts.create_post(author, db.session.get(Consultation, consultation_id), topic_id=topic_id,
                                     body=body)
            db.session.commit()
            ids.append(post.id)
    return ids


def test_a_consultation_page_applies_early_events_in_order_and_syncs_only_for_a_gap_that_stays_open(
        page, live_server, consultation):
    consultation_id, topic_id, stream = consultation
    database_url = live_server["database_url"]
    page.add_init_script(RECORD_SOCKET)
    page.goto(f"{live_server['url']}/consultations/{consultation_id}")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    window_ms, hold_max = page.evaluate(
        "import('/static/js/stream.js').then(stream => [stream.ORDER_WINDOW_MS, stream.ORDER_HOLD_MAX])")
    bodies = page.locator(".thread-list > li > article.post .post-body")
    start = page.evaluate("window.sentByPage.find(sent => sent.name === 'join').data.last_seq")

    # 1. Event 2 comes before event 1: held, then both applied as 1 fills the gap. No sync.
    first_ids = respond(database_url, consultation_id, topic_id, ["First, sent second.", "Second, sent first."])
    first, second = stored_events(database_url, stream, start)
    steps = page.evaluate(DELIVER, [[second, first], first_ids])
    assert steps[0]["shown"] == [] and steps[0]["syncs"] == 0       # the early one waits
    assert steps[1]["shown"] == first_ids and steps[1]["syncs"] == 0  # the gap filled: both, in order
    expect(bodies).to_have_text(["Second, sent first.", "First, sent second."])  # newest first
    expect(page.locator("[data-count=responses]")).to_have_text("2 responses")  # the later event's count
    assert page.evaluate(DELIVER, [[first, second], first_ids])[-1]["syncs"] == 0  # seen: ignored
    expect(bodies).to_have_count(2)

    # 2. Event 4 comes and 3 never does: after the window, one sync; the server's answer brings
    # 3 and 4, in order, once each.
    lost_ids = respond(database_url, consultation_id, topic_id, ["Third, never delivered.", "Fourth, delivered."])
    third, fourth = stored_events(database_url, stream, second["seq"])
    held = page.evaluate(DELIVER, [[fourth], lost_ids])[0]
    assert held["shown"] == [] and held["syncs"] == 0
    page.wait_for_function("() => window.sentByPage.some(sent => sent.name === 'sync')")
    expect(bodies).to_have_text(["Fourth, delivered.", "Third, never delivered.", "Second, sent first.",
                                 "First, sent second."])
    expect(page.locator("[data-count=responses]")).to_have_text("4 responses")
    syncs = syncs_sent(page)
    # One sync, from the last event applied, and only once the window had passed: case 1 sent none.
    assert [sync["data"] for sync in syncs] == [{"stream": stream, "last_seq": second["seq"]}]
    assert syncs[0]["at"] - held["at"] >= 0.9 * window_ms
    page.evaluate(DELIVER, [[third], lost_ids])  # the live copy, late: already applied
    expect(bodies).to_have_count(4)
    screenshot(page, "live-order-01-applied-in-order")

    # 3. More than HOLD_MAX events held behind a gap: the page asks at once, without waiting.
    many = [f"Burst {n}." for n in range(1, hold_max + 3)]
    respond(database_url, consultation_id, topic_id, many)
    burst = stored_events(database_url, stream, fourth["seq"])
    assert len(burst) == hold_max + 2
    steps = page.evaluate(DELIVER, [burst[1:], []])  # all but the first
    assert [step["syncs"] for step in steps] == [1] * hold_max + [2]  # the one past the bound: a sync
    expect(bodies.first).to_have_text(many[-1])
    assert bodies.all_inner_texts()[:len(many)] == many[::-1]  # all of them, in order, once each
    assert syncs_sent(page)[1]["data"] == {"stream": stream, "last_seq": fourth["seq"]}
    page.wait_for_function(f"() => document.querySelectorAll('article.post').length === {len(many) + 4}")


@pytest.fixture
def room(live_server):
    """An open room of the test's own in a running event: its path and id."""
    from forum.models.base import utcnow
    from forum.models.users import find_user_by_email
    from forum.services import event_setup, rooms

    with live_app(live_server["database_url"]):
        organiser = find_user_by_email(ORGANISER[0])
        now = utcnow()
        event = event_setup.create_event(organiser, event_setup.EventInput(
            title=f"Order of events {secrets.token_hex(3)}", starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=2), assignment_mode="manual"))
        event_setup.publish_event(organiser, event)
        made = event_setup.add_room(organiser, event, event_setup.RoomInput(title="Ordering"))
        rooms.set_phase(organiser, made, "open")
        return room_path(made), made.id


def test_a_room_page_keeps_each_of_its_two_streams_in_order(page, live_server, room):
    from forum.extensions import db
    from forum.models import Room
    from forum.models.users import find_user_by_email
    from forum.services import posts

    path, room_id = room
    database_url = live_server["database_url"]
    page.add_init_script(RECORD_SOCKET)
    log_in(page, live_server["url"], *ORGANISER)  # an organiser reads the moderators' stream too
    page.goto(live_server["url"] + path)
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    joined = {sent["data"]["stream"]: sent["data"]["last_seq"]
              for sent in page.evaluate("window.sentByPage.filter(sent => sent.name === 'join')")}
    room_stream, mod_stream = f"room:{room_id}", f"room:{room_id}:moderators"
    assert set(joined) == {room_stream, mod_stream}

    ids = {}
    with live_app(database_url):
        organiser = find_user_by_email(ORGANISER[0])
        for body, backchannel in (("Room one.", False), ("Moderators one.", True), ("Room two.", False),
                                  ("Moderators two.", True)):
            post = posts.post_in_room(organiser, db.session.get(Room, room_id), body=body, backchannel=backchannel)
            db.session.commit()
            ids[body] = post.id
    room_one, room_two = stored_events(database_url, room_stream, joined[room_stream])
    mod_one, mod_two = stored_events(database_url, mod_stream, joined[mod_stream])

    # Each stream's second event first, the streams interleaved: each waits for its own gap.
    steps = page.evaluate(DELIVER, [[room_two, mod_two, room_one, mod_one], list(ids.values())])
    assert [sorted(step["shown"]) for step in steps] == [
        [], [], sorted([ids["Room one."], ids["Room two."]]), sorted(ids.values())]
    assert [step["syncs"] for step in steps] == [0, 0, 0, 0]  # a gap is not asked about at once
    room_list = page.locator(f'[data-list-stream="{room_stream}"] > li.message .post-body')
    mod_list = page.locator(f'[data-list-stream="{mod_stream}"] > li.message .post-body')
    expect(room_list).to_have_text(["Room one.", "Room two."])
    expect(mod_list).to_have_text(["Moderators one.", "Moderators two."])
    page.evaluate(DELIVER, [[mod_two, room_one], []])  # seen: ignored
    expect(room_list).to_have_count(2)
    expect(mod_list).to_have_count(2)


def test_a_servers_sync_notice_brings_what_was_lost_on_its_way(page, live_server, consultation):
    # The server sends `sync` once it listens to its message queue again after an outage
    # (tests/realtime/test_scale_out.py): what was published meanwhile never reached the page.
    consultation_id, topic_id, stream = consultation
    page.add_init_script(RECORD_SOCKET)
    page.goto(f"{live_server['url']}/consultations/{consultation_id}")
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    [lost] = respond(live_server["database_url"], consultation_id, topic_id, ["Published while Redis was down."])
    expect(page.locator(f"#post-{lost}")).to_have_count(0)  # not broadcast: made outside the server

    page.evaluate("stream => window.pageSocket.listeners('sync').forEach(handler => handler({stream: stream}))",
                  stream)
    expect(page.locator(f"#post-{lost} .post-body")).to_have_text("Published while Redis was down.")
    assert [sync["data"]["stream"] for sync in syncs_sent(page)] == [stream]


def test_a_room_page_has_one_connection_and_says_bursts_together(page, live_server, room):
    """room.js and polls.js both import the live stream module (static/js/stream.js): the page
    makes one socket, joins each stream once; announcements that come in a burst are said
    together, the same kind counted ("4 new messages"), not one after the other."""
    path, room_id = room
    page.add_init_script(RECORD_SOCKET)
    log_in(page, live_server["url"], *ORGANISER)
    page.goto(live_server["url"] + path)
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "live")
    expect(page.locator("#poll-live-room")).to_have_count(1)  # polls.js is on the page too
    joins = [sent["data"]["stream"] for sent in page.evaluate("window.sentByPage.filter(sent => sent.name === 'join')")]
    assert sorted(joins) == [f"room:{room_id}", f"room:{room_id}:moderators"]
    assert page.evaluate("window.socketsMade") == 1

    said = page.evaluate("""async () => {
      const stream = await import("/static/js/stream.js");
      const region = document.querySelector("[data-live-announcer]");
      const texts = [];
      new MutationObserver(() => { if (region.textContent) texts.push(region.textContent); })
        .observe(region, {childList: true, characterData: true, subtree: true});
      const until = (n) => new Promise((resolve, reject) => {
        const started = performance.now();
        (function check() {
          if (texts.length >= n) resolve();
          else if (performance.now() - started > 30000) reject(new Error(JSON.stringify(texts)));
          else window.setTimeout(check, 20);
        })();
      });
      const many = (n) => n + " new messages";
      stream.announce("First");
      await until(1);
      ["Ann", "Bo", "Cy", "Di"].forEach((name) => stream.announce("New message from " + name, many));
      stream.announce("Time is up");
      await until(2);
      ["one", "two", "three", "four", "five"].forEach((text) => stream.announce(text));
      await until(3);
      return texts;
    }""")
    assert said == ["First", "4 new messages Time is up", "three four five"]
