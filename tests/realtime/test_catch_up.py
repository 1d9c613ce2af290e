"""Catching up: a client that was away sends the last seq it applied and receives, from the
database, exactly the events it missed, in order and once, as they were broadcast (stored,
never rendered again), a page at a time (`more`, then `sync`); past a threshold it is told
to reload its page instead. An event whose post a later one shows anew is sent as a stub,
so a catch-up never carries text that was hidden or deleted since."""
from __future__ import annotations

import json

import pytest
from flask import template_rendered
from sqlalchemy import update

from forum.models import StreamEvent
from forum.services import moderation
from forum.services import posts as post_service
from forum.services.events import consultation_stream
from tests.web.page import parse


@pytest.fixture
def room(db, make_user, make_consultation, make_post):
    """An open consultation with two posts already (seq 1 and 2), and its author."""
    author = make_user(display_name="Amina Diallo")
    consultation = make_consultation()
    make_post(consultation=consultation, author=author)
    make_post(consultation=consultation, author=author)
    db.session.commit()
    return consultation, author


def write_posts(db, consultation, author, count: int, prefix: str = "Missed") -> list:
    made = [post_service.create_post(author, consultation, topic_id=consultation.topics[0].id,
                                     body=f"{prefix} post {n}.") for n in range(1, count + 1)]
    db.session.commit()  # broadcasts to whoever is connected, which is nobody of interest
    return made


def test_a_reconnecting_client_receives_exactly_the_50_events_it_missed(db, room, connect):
    consultation, author = room
    stream = consultation_stream(consultation)
    first = connect()
    joined = first.join(stream, last_seq=0)
    assert [e["seq"] for e in joined["missed"]] == [1, 2]
    last_seq = joined["seq"]
    assert last_seq == 2
    first.disconnect()

    made = write_posts(db, consultation, author, 50)

    again = connect()
    ack = again.join(stream, last_seq=last_seq)
    assert ack["ok"] is True and ack["more"] is False
    assert [e["seq"] for e in ack["missed"]] == list(range(3, 53))
    assert [e["post"]["id"] for e in ack["missed"]] == [p.id for p in made]
    assert {e["type"] for e in ack["missed"]} == {"post.created"}
    assert {e["stream"] for e in ack["missed"]} == {stream}
    assert "Missed post 50." in ack["missed"][-1]["post"]["body_html"]
    assert ack["seq"] == 52
    assert again.events() == []  # nothing a second time as a live event

    # Live again: the next post arrives once, numbered right after the catch-up.
    [newer] = write_posts(db, consultation, author, 1, prefix="Live")
    assert [(e["seq"], e["post"]["id"]) for e in again.events()] == [(53, newer.id)]


def test_a_client_that_missed_nothing_receives_nothing(db, room, connect):
    consultation, _ = room
    stream = consultation_stream(consultation)
    socket = connect()

    assert socket.join(stream)["missed"] == []  # no last_seq: a fresh page is up to date
    assert socket.join(stream, last_seq=2)["missed"] == []
    assert socket.emit("sync", {"stream": stream, "last_seq": 2}) == {"ok": True, "events": [], "more": False,
                                                                       "reload": False}


def test_each_stream_has_its_own_numbers(db, room, make_consultation, make_post, connect):
    consultation, author = room
    other = make_consultation()
    make_post(consultation=other)
    db.session.commit()
    socket = connect()

    ack = socket.join(consultation_stream(other), last_seq=0)

    assert [(e["stream"], e["seq"]) for e in ack["missed"]] == [(consultation_stream(other), 1)]
    assert socket.join(consultation_stream(consultation), last_seq=0)["seq"] == 2


@pytest.fixture
def page_size(app):
    """Pages of 10 events, and a reload threshold out of the way (tests that need one set it)."""
    app.config.update(CATCH_UP_PAGE_SIZE=10, CATCH_UP_RELOAD_AFTER=1000)
    return 10


def test_more_than_a_page_missed_arrives_in_pages_through_sync(db, room, connect, page_size):
    consultation, author = room
    stream = consultation_stream(consultation)
    made = write_posts(db, consultation, author, 25)  # seq 3..27
    socket = connect()

    ack = socket.join(stream, last_seq=2)
    assert ack["more"] is True and ack["reload"] is False
    assert [e["seq"] for e in ack["missed"]] == list(range(3, 13))
    assert ack["seq"] == 27

    pages = [ack["missed"]]
    last = ack["missed"][-1]["seq"]
    for _ in range(5):  # bounded: 15 events left need 2 pages
        page = socket.emit("sync", {"stream": stream, "last_seq": last})
        assert page["ok"] is True and page["reload"] is False
        pages.append(page["events"])
        last = page["events"][-1]["seq"]
        if not page["more"]:
            break
    assert [len(p) for p in pages] == [10, 10, 5]
    received = [e for p in pages for e in p]
    assert [e["seq"] for e in received] == list(range(3, 28))
    assert [e["post"]["id"] for e in received] == [p.id for p in made]
    assert socket.events() == []


def test_a_page_holds_50_events_by_default(db, room, connect):
    consultation, author = room
    write_posts(db, consultation, author, 60)  # seq 3..62

    ack = connect().join(consultation_stream(consultation), last_seq=2)

    assert [e["seq"] for e in ack["missed"]] == list(range(3, 53))
    assert ack["more"] is True and ack["reload"] is False


def test_sync_without_a_number_starts_from_the_beginning(db, room, connect, page_size):
    consultation, author = room
    write_posts(db, consultation, author, 10)  # seq 3..12
    socket = connect()

    page = socket.emit("sync", {"stream": consultation_stream(consultation)})

    assert [e["seq"] for e in page["events"]] == list(range(1, 11))
    assert page["more"] is True


@pytest.mark.parametrize("last_seq", ["2", -1, 2.0, True, [2]])
def test_sync_with_a_malformed_number_is_refused(db, room, connect, last_seq):
    consultation, _ = room
    socket = connect()
    ack = socket.emit("sync", {"stream": consultation_stream(consultation), "last_seq": last_seq})
    assert ack["ok"] is False and ack["error"]["code"] == 400


# --- stored, not rendered again ------------------------------------------------------

def test_catch_up_sends_byte_for_byte_what_was_broadcast_and_renders_nothing(db, room, connect, make_user):
    consultation, author = room
    stream = consultation_stream(consultation)
    live = connect()
    last_seq = live.join(stream)["seq"]
    made = write_posts(db, consultation, author, 3)
    post_service.endorse(make_user(), made[0])
    db.session.commit()
    broadcast = live.events()
    assert [e["type"] for e in broadcast] == ["post.created"] * 3 + ["post.endorsed"]
    rendered = []

    def count(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        missed = connect().join(stream, last_seq=last_seq)["missed"]
    finally:
        template_rendered.disconnect(count)

    assert rendered == []  # served from what was stored, whatever the number of languages
    # An endorsement supersedes nothing (clients take only its figures): all as broadcast.
    assert [json.dumps(e) for e in missed] == [json.dumps(e) for e in broadcast]


def test_the_stored_message_is_the_one_broadcast_even_if_the_post_is_shown_differently_later(
        db, room, connect):
    consultation, author = room
    stream = consultation_stream(consultation)
    live = connect()
    last_seq = live.join(stream)["seq"]
    [post] = write_posts(db, consultation, author, 1, prefix="Before the name change")
    [broadcast] = live.events()
    author.display_name = "Amina D."  # a change that records no event on the stream
    db.session.commit()

    [caught_up] = connect().join(stream, last_seq=last_seq)["missed"]

    assert json.dumps(caught_up) == json.dumps(broadcast)
    assert caught_up["post"]["author"]["name"] == "Amina Diallo"


def test_events_recorded_before_messages_were_stored_make_the_client_reload(db, room, connect):
    consultation, _ = room
    stream = consultation_stream(consultation)
    db.session.execute(update(StreamEvent).where(StreamEvent.stream_key == stream, StreamEvent.seq == 2)
                       .values(payload=None))
    db.session.commit()
    socket = connect()

    assert socket.join(stream, last_seq=0) | {"presence": None, "server_time": None} == {
        "ok": True, "stream": stream, "seq": 2, "missed": [], "more": False, "reload": True,
        "presence": None, "can_post": False, "server_time": None}
    assert socket.join(stream, last_seq=2)["reload"] is False  # missed nothing: nothing to replay


# --- what changed since: never text that was hidden or deleted ----------------------------

def test_catching_up_shows_each_posts_latest_state_and_nothing_older(db, room, connect, make_user):
    consultation, author = room
    stream = consultation_stream(consultation)
    socket = connect()
    last_seq = socket.join(stream)["seq"]
    socket.disconnect()
    post = post_service.create_post(author, consultation, topic_id=consultation.topics[0].id,
                                    body="First draft, *unclear*.")
    gone = post_service.create_post(author, consultation, topic_id=consultation.topics[0].id,
                                    body="Soon withdrawn.")
    db.session.commit()
    post_service.edit_post(author, post, subject="Clearer", body="Second draft, **clear**.")
    post_service.endorse(make_user(), post)
    post_service.delete_post(author, gone)
    db.session.commit()

    ack = connect().join(stream, last_seq=last_seq)
    missed = ack["missed"]

    # The creations are superseded by the edit and the deletion; an endorsement supersedes
    # nothing (clients read only its figures), so the edit is what shows the post.
    assert [(e["type"], e.get("post", {}).get("id")) for e in missed] == [
        ("superseded", None), ("superseded", None),
        ("post.updated", post.id), ("post.endorsed", post.id), ("post.deleted", gone.id)]
    assert parse(missed[2]["post"]["body_html"]).one("strong").text() == "clear"
    assert missed[2]["post"]["subject"] == "Clearer"
    assert missed[3]["post"]["endorsement_count"] == 1
    assert missed[4]["post"]["deleted"] is True
    assert "First draft" not in json.dumps(ack) and "Soon withdrawn" not in json.dumps(ack)


def test_a_post_hidden_after_it_was_broadcast_is_never_caught_up_with_its_text(
        db, room, connect, make_user, page_size):
    consultation, author = room
    stream = consultation_stream(consultation)
    organiser = consultation.owner
    live = connect()
    last_seq = live.join(stream)["seq"]
    secret = post_service.create_post(author, consultation, topic_id=consultation.topics[0].id,
                                      body="My neighbour's phone number is 0470 12 34 56.")
    db.session.commit()
    assert "0470 12 34 56" in live.events()[0]["post"]["body_html"]  # it was public for a moment
    write_posts(db, consultation, author, 12)  # the hiding comes on the second page
    moderation.hide_post(organiser, secret, "Personal data")
    db.session.commit()

    visitor = connect()
    pages = [visitor.join(stream, last_seq=last_seq)]
    while pages[-1]["more"]:
        pages.append(visitor.emit("sync", {"stream": stream, "last_seq": pages[-1].get(
            "missed", pages[-1].get("events"))[-1]["seq"]}))

    assert len(pages) == 2
    received = pages[0]["missed"] + pages[1]["events"]
    assert received[0] == {"stream": stream, "seq": last_seq + 1, "type": "superseded"}
    assert [e["type"] for e in received if e.get("post", {}).get("id") == secret.id] == ["post.hidden"]
    assert "0470" not in json.dumps(pages)


def test_readers_asking_for_the_same_page_are_answered_from_one_reading_until_a_new_event(
        db, room, connect, make_post, app):
    from sqlalchemy import event as sa_event

    consultation, _ = room
    stream = consultation_stream(consultation)
    readings = []

    def count(conn, cursor, statement, *args):
        if "FROM stream_event" in statement:
            readings.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        answers = [connect().join(stream, last_seq=0)["missed"] for _ in range(5)]
        assert len(readings) == 1 and all(answer == answers[0] for answer in answers) and answers[0]

        make_post(consultation=consultation)  # a new event: a new page, read anew
        db.session.commit()
        newer = connect().join(stream, last_seq=0)["missed"]
        assert len(readings) == 2 and len(newer) == len(answers[0]) + 1

        app.config["CATCH_UP_CACHE_SECONDS"] = 0  # off: every reader reads
        connect().join(stream, last_seq=0)
        connect().join(stream, last_seq=0)
        assert len(readings) == 4
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
