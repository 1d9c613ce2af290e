"""A live event about a post carries the post once, in no language: small enough to send to
thousands of readers and to store (docs/realtime.md, "Server → client")."""
from __future__ import annotations

import json

from forum.models import StreamEvent
from forum.realtime import messages
from forum.services import events
from forum.services import posts as post_service

# About 400 characters: a paragraph, as most responses are.
TYPICAL = ("Our integration courses follow a national curriculum with a fixed number of hours. For "
           "learners with little schooling it is too fast, for graduates too slow. **Modular courses** "
           "that people can enter at different points would serve both groups better, and the local "
           "offices already know who needs which. We would start with two pilot towns next spring.")


def test_the_event_of_a_typical_post_is_under_a_kilobyte(db, make_user, make_consultation, connect):
    consultation = make_consultation(topics=3)
    author = make_user(display_name="Jonas Weber", organisation="City of Neuhafen – Integration Office",
                       organisation_type="local_authority", country="DE")
    db.session.commit()
    stream = events.consultation_stream(consultation)
    reader = connect()
    assert reader.join(stream)["ok"]

    post = post_service.create_post(author, consultation, topic_id=consultation.topics[1].id,
                                    subject="One speed does not fit all", body=TYPICAL)
    db.session.commit()

    [event] = reader.events()
    assert event["post"]["id"] == post.id and event["post"]["body_html"] == post.body_html
    size = len(on_the_wire(event))
    assert size <= 1024, (size, event)
    assert "html" not in event  # no rendering per language any more
    assert [key for key in event["post"] if key in ("parent", "quote", "edited", "on_behalf")] == []


def test_a_reply_quoting_its_parent_is_small_but_for_the_two_texts(db, make_user, make_post, connect):
    parent = make_post(make_user(display_name="Ann"), body=TYPICAL[:200])
    db.session.commit()
    reply = post_service.create_post(make_user(), parent.consultation, parent=parent, quote=True,
                                     body=TYPICAL[:200])
    db.session.commit()

    message = db.session.get(StreamEvent, _last_event_id(db, reply.id)).payload
    assert message["post"]["quote"]["name"] == "Ann" and message["post"]["parent"] == {"deleted": False, "name": "Ann"}
    # It carries the quoted words too (the quote reads as the quoted post does now): beyond
    # the two texts, it is as small as any post's.
    texts = len(json.dumps(message["post"]["body_html"])) + len(json.dumps(message["post"]["quote"]["body_html"]))
    assert len(on_the_wire(message)) - texts <= 700


def test_an_endorsement_carries_only_the_figures(db, make_user, make_post):
    post = make_post(body=TYPICAL)
    db.session.commit()
    post_service.endorse(make_user(), post)
    db.session.commit()

    message = db.session.get(StreamEvent, _last_event_id(db, post.id)).payload
    assert message["type"] == "post.endorsed" and message["post"]["endorsement_count"] == 1
    assert "body_html" not in message["post"] and "author" not in message["post"]
    assert len(on_the_wire(message)) < 400


def test_a_message_is_built_from_one_load_of_its_post(db, make_user, make_post, count_queries):
    quoted = make_post(make_user(display_name="Ann"), body="First.")
    reply = post_service.create_post(make_user(), quoted.consultation, parent=quoted, quote=True, body="Second.")
    db.session.commit()

    recorded = StreamEvent(stream_key=events.consultation_stream(reply.consultation_id), kind="post.updated",
                           post_id=reply.id, seq=1)
    with count_queries() as statements:
        message = messages.payload(recorded)
    # The post with its author, topic, consultation and hosts, parent and quoted post (and
    # their authors), room, event and moderators: one SELECT.
    assert len(statements) == 1, statements
    assert message["post"]["quote"]["name"] == "Ann"


def test_a_room_message_is_built_from_one_load_too(db, make_event, count_queries):
    event = make_event(participants=2)
    room = event.rooms[1]
    moderator = event.test_moderators[room.position][0]
    message = post_service.post_in_room(moderator, room, body="Welcome, everyone.")
    db.session.commit()

    recorded = StreamEvent(stream_key=events.room_stream(room), kind="post.updated", post_id=message.id, seq=1)
    with count_queries() as statements:
        built = messages.payload(recorded)
    assert len(statements) == 1, statements
    assert built["post"]["author"]["role"] == "moderator"


def _last_event_id(db, post_id: int) -> int:
    from sqlalchemy import select
    return db.session.scalar(select(StreamEvent.id).where(StreamEvent.post_id == post_id)
                             .order_by(StreamEvent.seq.desc()).limit(1))


def on_the_wire(message: dict) -> bytes:
    """The message as python-socketio encodes it in its packet."""
    return json.dumps(message, separators=(",", ":")).encode()
