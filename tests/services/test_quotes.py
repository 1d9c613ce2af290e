"""Quoting: a reply names the post it quotes and the quote is rendered from that post when
read, so deleting or hiding it takes its words out of every quote of it."""
from __future__ import annotations

import json

import pytest
from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from forum.models import Post, PostRevision, StreamEvent
from forum.realtime import messages
from forum.services import moderation, posts
from forum.services.errors import ValidationError

SECRET = "My neighbour at 12 Elm Street"


def stored_text(db, post: Post) -> str:
    """Everything stored for a post that holds text: its fields and its earlier versions."""
    db.session.flush()
    db.session.expire(post)
    versions = db.session.scalars(select(PostRevision.body).where(PostRevision.post_id == post.id)).all()
    return " | ".join([post.subject, post.body, post.body_html, *versions])


def quote_html(post: Post, language: str = "en") -> str:
    with force_locale(language):
        return render_template("partials/quote.html", quoted=post)


def test_a_quote_is_a_reference_and_copies_none_of_the_quoted_words(db, make_user, make_post):
    source = make_post(make_user(display_name="Ann"), body=SECRET)
    reply = posts.create_post(make_user(), source.consultation, parent=source, body="I agree.", quote=True)

    assert reply.quoted_post_id == source.id
    assert SECRET not in stored_text(db, reply)
    assert "wrote" not in reply.body
    assert SECRET in quote_html(reply.quoted_post)


def test_deleting_the_quoted_post_leaves_a_placeholder_in_the_quote(db, app, make_user, make_post):
    author = make_user(display_name="Ann")
    source = make_post(author, body=SECRET)
    reply = posts.create_post(make_user(), source.consultation, parent=source, body="Indeed.", quote=True)
    posts.edit_post(reply.author, reply, body="Indeed, as said.")  # an earlier version is kept

    posts.delete_post(author, source)

    assert SECRET not in stored_text(db, reply)
    html = quote_html(reply.quoted_post)
    assert SECRET not in html and "Ann" not in html
    assert "This post was deleted." in html
    assert SECRET not in json.dumps(messages.post_data(reply))
    assert messages.post_data(reply)["quote"] == {"id": source.id, "state": "deleted"}


def test_hiding_the_quoted_post_leaves_a_placeholder_and_restoring_brings_it_back(db, make_user, make_post):
    source = make_post(make_user(display_name="Ann"), body=SECRET)
    reply = posts.create_post(make_user(), source.consultation, parent=source, body="Indeed.", quote=True)
    organiser = source.consultation.owner

    moderation.hide_post(organiser, source, "Personal details")
    # The reply still refers to the hidden post; its quote shows the placeholder instead.
    assert reply.quoted_post_id == source.id
    hidden = quote_html(reply.quoted_post)
    assert SECRET not in hidden and "Ann" not in hidden
    assert "This post was hidden by a moderator." in hidden

    moderation.restore_post(organiser, source)
    assert SECRET in quote_html(reply.quoted_post)


def test_a_room_message_quotes_by_reference_with_the_rooms_wording(db, make_event):
    event = make_event(rooms=1, participants=2)
    room = event.breakout_rooms[0]
    ann, bob = event.test_participants[0], event.test_participants[1]
    source = posts.post_in_room(ann, room, body=SECRET)
    reply = posts.post_in_room(bob, room, body="Same here.", parent=source, quote=True)

    assert reply.quoted_post_id == source.id and SECRET not in stored_text(db, reply)
    posts.delete_post(ann, source)
    html = quote_html(reply.quoted_post)
    assert "This message was deleted." in html and SECRET not in html


def test_the_quote_header_is_in_the_readers_language(db, make_user, make_post):
    source = make_post(make_user(display_name="Ann"), body="Rents are too high.")
    writer = make_user(preferred_language="it")
    reply = posts.create_post(writer, source.consultation, parent=source, body="Vero.", quote=True)

    assert "Ann wrote:" in quote_html(reply.quoted_post, "en")
    assert "Ann ha scritto:" in quote_html(reply.quoted_post, "it")


def test_only_a_reply_can_quote(db, make_user, make_consultation):
    consultation = make_consultation()
    with pytest.raises(ValidationError):
        posts.create_post(make_user(), consultation, topic_id=consultation.topics[0].id, body="Hi", quote=True)


def test_a_quote_shows_the_quoted_posts_own_words_not_what_it_quotes(db, make_user, make_post):
    """Quotes within quotes: each quote credits its words to their writer only."""
    first = make_post(make_user(display_name="Ann"), body="The point Ann makes.")
    second = posts.create_post(make_user(display_name="Bob"), first.consultation, parent=first,
                               body="The answer Bob gives.", quote=True)
    html = quote_html(second)
    assert "Bob wrote:" in html and "The answer Bob gives." in html
    assert "The point Ann makes." not in html and "Ann" not in html


@pytest.mark.parametrize("kind, change", [
    ("post.deleted", lambda source: posts.delete_post(source.author, source)),
    ("post.hidden", lambda source: moderation.hide_post(source.consultation.owner, source, "Personal details")),
])
def test_the_event_that_removes_a_posts_words_records_the_replies_quoting_it_anew(db, make_user, make_post, kind,
                                                                               change):
    """Open pages replace a reply by its id: its new message quotes the placeholder."""
    source = make_post(make_user(display_name="Ann"), body=SECRET)
    reply = posts.create_post(make_user(), source.consultation, parent=source, body="Indeed.", quote=True)
    db.session.flush()
    unrelated = make_post(make_user(), consultation=source.consultation, body="Elsewhere.")

    change(source)
    db.session.commit()  # events are numbered and stored at commit

    changed = db.session.scalars(select(StreamEvent).where(StreamEvent.kind == kind)).one()
    updates = db.session.scalars(select(StreamEvent).where(StreamEvent.seq > changed.seq)).all()
    assert [(e.kind, e.post_id) for e in updates] == [("post.updated", reply.id)]
    assert unrelated.id not in [e.post_id for e in updates]
    message = updates[0].payload  # as stored and broadcast
    assert SECRET not in json.dumps(message)
    assert message["post"]["quote"] == {"id": source.id,
                                        "state": {"post.deleted": "deleted", "post.hidden": "hidden"}[kind]}


def test_restoring_and_editing_record_the_quoting_replies_and_other_events_do_not(db, make_user, make_post):
    source = make_post(make_user(display_name="Ann"), body="First words.")
    reply = posts.create_post(make_user(preferred_language="it"), source.consultation, parent=source,
                              body="Indeed.", quote=True)
    db.session.flush()
    organiser = source.consultation.owner
    moderation.hide_post(organiser, source, "Check")
    moderation.restore_post(organiser, source)
    posts.edit_post(source.author, source, body="Second words.")
    posts.endorse(make_user(), source)
    db.session.commit()  # events are numbered and stored at commit

    kinds = [(e.kind, e.post_id) for e in db.session.scalars(select(StreamEvent).order_by(StreamEvent.seq))]
    assert kinds == [("post.created", source.id), ("post.created", reply.id),
                     ("post.hidden", source.id), ("post.updated", reply.id),
                     ("post.restored", source.id), ("post.updated", reply.id),
                     ("post.updated", source.id), ("post.updated", reply.id),
                     ("post.endorsed", source.id)]
    # Payloads show the reply as it is now, its quote with it (the page words it).
    last = db.session.scalars(select(StreamEvent).where(StreamEvent.post_id == reply.id)
                              .order_by(StreamEvent.seq.desc()).limit(1)).one()
    assert last.payload["post"]["quote"] == {"id": source.id, "state": "shown", "name": "Ann",
                                             "body_html": "<p>Second words.</p>\n"}
