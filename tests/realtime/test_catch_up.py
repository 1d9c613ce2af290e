"""Catching up: a client that was away sends the last seq it applied and receives, from the
database, exactly the events it missed, in order and once; more than the limit arrive in
pages (`more`, then `sync`). Events carry each post's latest state."""
from __future__ import annotations

import pytest

from forum.services import events
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
    assert "Missed post 50." in ack["missed"][-1]["html"]["en"]
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
    assert socket.emit("sync", {"stream": stream, "last_seq": 2}) == {"ok": True, "events": [], "more": False}


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
def small_catch_up_limit(monkeypatch):
    """A catch-up page of 10 events instead of CATCH_UP_LIMIT (500).

    `events_after(..., limit=CATCH_UP_LIMIT)` binds the constant when the module is imported,
    so patching the constant alone changes nothing; the function's default is patched too."""
    monkeypatch.setattr(events, "CATCH_UP_LIMIT", 10)
    monkeypatch.setattr(events.events_after, "__defaults__", (10,))
    return 10


def test_more_than_the_limit_missed_arrives_in_pages_through_sync(db, room, connect, small_catch_up_limit):
    consultation, author = room
    stream = consultation_stream(consultation)
    made = write_posts(db, consultation, author, 25)  # seq 3..27
    socket = connect()

    ack = socket.join(stream, last_seq=2)
    assert ack["more"] is True
    assert [e["seq"] for e in ack["missed"]] == list(range(3, 13))
    assert ack["seq"] == 27

    pages = [ack["missed"]]
    last = ack["missed"][-1]["seq"]
    for _ in range(5):  # bounded: 15 events left need 2 pages
        page = socket.emit("sync", {"stream": stream, "last_seq": last})
        assert page["ok"] is True
        pages.append(page["events"])
        last = page["events"][-1]["seq"]
        if not page["more"]:
            break
    assert [len(p) for p in pages] == [10, 10, 5]
    received = [e for p in pages for e in p]
    assert [e["seq"] for e in received] == list(range(3, 28))
    assert [e["post"]["id"] for e in received] == [p.id for p in made]
    assert socket.events() == []


def test_sync_without_a_number_starts_from_the_beginning(db, room, connect, small_catch_up_limit):
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


def test_catching_up_shows_each_posts_latest_state(db, room, connect, make_user):
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

    missed = connect().join(stream, last_seq=last_seq)["missed"]

    assert [(e["type"], e["post"]["id"]) for e in missed] == [
        ("post.created", post.id), ("post.created", gone.id), ("post.updated", post.id),
        ("post.endorsed", post.id), ("post.deleted", gone.id)]
    for event in (e for e in missed if e["post"]["id"] == post.id):
        article = parse(event["html"]["en"]).one("article", id=f"post-{post.id}")
        assert article.one(class_="post-body").one("strong").text() == "clear"
        assert article.one(class_="post-subject").text() == "Clearer"
        assert "First draft" not in event["html"]["en"]
        assert event["post"]["endorsement_count"] == 1
    for event in (e for e in missed if e["post"]["id"] == gone.id):
        assert event["post"]["deleted"] is True
        assert "Soon withdrawn" not in event["html"]["en"]
