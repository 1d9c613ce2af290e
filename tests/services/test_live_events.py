"""Live events are sent once the whole transaction commits: never when a savepoint inside it
is released (SQLAlchemy calls the commit hooks then too), never after a rollback. Each
event's message is built once, as the transaction commits, stored with the event and sent
to catch-up as stored."""
import json
import re

import pytest
from sqlalchemy import select, text

from forum.extensions import socketio
from forum.models import StreamEvent
from forum.services import events, moderation
from forum.services import posts as post_service


def test_releasing_a_savepoint_sends_nothing_and_a_rollback_drops_it(db):
    sent = []
    events.on_commit(lambda: sent.append("first"))
    with db.session.begin_nested():
        pass
    assert sent == []
    db.session.rollback()
    assert sent == []


def test_what_was_queued_is_sent_at_the_real_commit(db):
    sent = []
    events.on_commit(lambda: sent.append("second"))
    with db.session.begin_nested():
        pass
    db.session.commit()
    assert sent == ["second"]


# --- each event's message: built once, stored with it, sent as stored -----------------------

@pytest.fixture
def broadcast(monkeypatch):
    """The messages sent to Socket.IO rooms, in order."""
    sent = []
    monkeypatch.setattr(socketio, "emit", lambda name, message, to=None, **kw: sent.append(message))
    return sent


def stored_payloads(db, stream_key: str) -> list[dict]:
    db.session.expire_all()
    return list(db.session.scalars(select(StreamEvent.payload).where(StreamEvent.stream_key == stream_key)
                                   .order_by(StreamEvent.seq)))


def test_the_message_broadcast_is_stored_with_its_event_at_commit(db, make_consultation, make_user, broadcast):
    consultation = make_consultation()
    db.session.commit()
    broadcast.clear()
    stream = events.consultation_stream(consultation)
    post = post_service.create_post(make_user(), consultation, topic_id=consultation.topics[0].id, body="Hello")
    db.session.flush()
    # Not before the commit: the post may still change, and its number is taken at commit.
    assert stored_payloads(db, stream) == []

    db.session.commit()

    [message] = broadcast
    assert message["post"]["id"] == post.id and message["post"]["body_html"] == "<p>Hello</p>\n"
    assert [json.dumps(p) for p in stored_payloads(db, stream)] == [json.dumps(message)]


def test_a_message_shows_the_post_as_the_transaction_left_it(db, make_consultation, make_user, broadcast):
    consultation = make_consultation()
    author = make_user()
    db.session.commit()
    post = post_service.create_post(author, consultation, topic_id=consultation.topics[0].id, body="Draft")
    post_service.edit_post(author, post, subject="", body="Final")
    db.session.commit()

    created, updated = stored_payloads(db, events.consultation_stream(consultation))
    assert updated["post"]["body_html"] == "<p>Final</p>\n" and "Draft" not in json.dumps(updated)
    # The creation's message is superseded by the edit: catch-up never sends it, so it is not kept.
    assert created is None
    assert broadcast[0]["post"] == updated["post"]  # what was broadcast for it showed the final post too


def test_a_rolled_back_write_stores_no_event(db, make_consultation, make_user, broadcast):
    consultation = make_consultation()
    db.session.commit()
    post_service.create_post(make_user(), consultation, topic_id=consultation.topics[0].id, body="Never")
    db.session.rollback()
    assert stored_payloads(db, events.consultation_stream(consultation)) == []
    assert broadcast == []


@pytest.mark.parametrize("missed, reload", [(5, False), (6, True)])
def test_past_the_threshold_the_client_is_told_to_reload(app, db, make_consultation, make_post, missed, reload):
    app.config.update(CATCH_UP_RELOAD_AFTER=5, CATCH_UP_PAGE_SIZE=2)
    consultation = make_consultation()
    for _ in range(6):
        make_post(consultation=consultation)
    db.session.commit()

    page = events.catch_up(events.consultation_stream(consultation), 6 - missed)

    assert page.reload is reload
    assert len(page.events) == (0 if reload else 2) and page.more is not reload


def test_a_thread_moved_to_another_topic_is_caught_up_once_in_its_new_place(db, make_consultation, make_user):
    consultation = make_consultation(topics=2)
    author = make_user()
    db.session.commit()
    post = post_service.create_post(author, consultation, topic_id=consultation.topics[0].id, body="Misplaced")
    db.session.commit()
    moderation.move_post(consultation.owner, post, topic=consultation.topics[1])
    db.session.commit()

    page = events.catch_up(events.consultation_stream(consultation), 0)

    assert [e["type"] for e in page.events] == ["superseded", "superseded", "post.created"]
    assert page.events[-1]["post"]["topic_id"] == consultation.topics[1].id


# --- numbers are taken at commit, as late as possible -------------------------------------

def test_a_stream_is_numbered_only_at_commit_after_everything_else_the_write_does(
        db, make_consultation, make_user, count_queries, broadcast):
    # Taking a number locks the stream's row until commit (PostgreSQL): the later, the less
    # other writes to the stream wait.
    consultation = make_consultation()
    author = make_user()
    db.session.commit()
    stream = events.consultation_stream(consultation)
    takes_number = re.compile(r"^\s*INSERT INTO stream\b", re.IGNORECASE)
    with count_queries() as statements:
        post = post_service.create_post(author, consultation, topic_id=consultation.topics[0].id, body="First")
        post_service.edit_post(author, post, subject="", body="Second")
        db.session.flush()
        assert [s for s in statements if takes_number.match(s)] == []
        assert events.created_seq(post) is None  # not numbered yet

        db.session.commit()

    [numbering] = [i for i, s in enumerate(statements) if takes_number.match(s)]  # one for both events
    writes_to_posts = [i for i, s in enumerate(statements) if re.match(r"^\s*(INSERT INTO|UPDATE) post\b", s)]
    assert writes_to_posts and max(writes_to_posts) < numbering
    assert [(m["seq"], m["type"]) for m in broadcast] == [(1, "post.created"), (2, "post.updated")]
    assert events.created_seq(post) == 1 and events.latest_seq(stream) == 2


def test_another_write_takes_a_number_while_one_has_recorded_an_event_and_not_committed(db, app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite writes one transaction at a time anyway)")
    stream = "room:-424242"  # a stream of no test's: the other transaction commits its number
    events.record_data(stream, "test.first", {})
    db.session.flush()  # everything but the commit

    # The other transaction gives up after 5 s: before, the first one's number had locked the row.
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '5s'"))
        taken = other.execute(text("INSERT INTO stream (key, last_seq) VALUES (:key, 1) ON CONFLICT (key) "
                                   "DO UPDATE SET last_seq = stream.last_seq + 1 RETURNING last_seq"),
                              {"key": stream}).scalar_one()
        other.commit()
    assert taken == 1

    db.session.commit()
    # Committed in order: the first write's event comes after the number the other committed.
    assert db.session.scalar(select(StreamEvent.seq).where(StreamEvent.stream_key == stream)) == 2
