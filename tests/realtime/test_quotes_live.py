"""Quotes on live pages: a reply sent over the socket quotes by reference, and when the
quoted post is deleted, hidden, restored or edited, the replies quoting it are sent anew with
their quote as it now reads, live and when catching up."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from forum.models import Post
from forum.services import moderation
from forum.services import posts as post_service
from forum.services.events import consultation_stream
from tests.web.page import parse

SECRET = "Call me on +32 470 12 34 56."


@pytest.fixture
def scene(db, make_user, make_consultation, make_post, user_client, connect):
    """Ann's response, quoted over the socket by Bruno (an Italian speaker); Chen reads along."""
    ann = make_user(display_name="Ann")
    bruno = make_user(display_name="Bruno", preferred_language="it")
    chen = make_user(display_name="Chen")
    consultation = make_consultation()
    source = make_post(ann, consultation=consultation, body=SECRET)
    db.session.commit()
    stream = consultation_stream(consultation)
    b, c = connect(user_client(bruno)), connect(user_client(chen))
    seq = b.join(stream)["seq"]
    assert c.join(stream)["ok"]
    ack = b.post(stream, "Sono d'accordo.", parent_id=source.id, quote=True)
    assert ack["ok"] is True, ack
    return SimpleNamespace(ann=ann, source=source, reply=db.session.get(Post, ack["post"]["id"]), stream=stream,
                           before=seq, b=b, c=c, consultation=consultation)


def test_a_reply_sent_over_the_socket_quotes_by_reference(scene):
    assert scene.reply.quoted_post_id == scene.source.id
    assert SECRET not in scene.reply.body + scene.reply.body_html
    [created] = [e for e in scene.c.events() if e["type"] == "post.created"]
    # Taken from the source: the page words its header in its reader's language.
    quote = created["post"]["quote"]
    assert (quote["id"], quote["state"], quote["name"]) == (scene.source.id, "shown", "Ann")
    assert parse(quote["body_html"]).text() == SECRET


def test_deleting_the_quoted_post_sends_the_quoting_reply_anew(db, scene):
    scene.c.events()
    post_service.delete_post(scene.ann, db.session.get(Post, scene.source.id))
    db.session.commit()

    deleted, updated = scene.c.events()
    assert (deleted["type"], deleted["post"]["id"]) == ("post.deleted", scene.source.id)
    assert (updated["type"], updated["post"]["id"]) == ("post.updated", scene.reply.id)
    assert updated["post"]["quote"] == {"id": scene.source.id, "state": "deleted"}
    assert SECRET not in str(deleted) + str(updated)


def remove_the_source(db, scene, change: str) -> None:
    """Its author deletes the quoted post, or a moderator hides it; committed."""
    source = db.session.get(Post, scene.source.id)
    if change == "delete":
        post_service.delete_post(scene.ann, source)
    else:
        moderation.hide_post(scene.consultation.owner, source, reason="Personal data")
    db.session.commit()


@pytest.mark.parametrize("change", ["delete", "hide"])
def test_a_reader_catching_up_gets_no_deleted_words_and_the_replacement(db, scene, connect, user_client, make_user,
                                                                        change):
    remove_the_source(db, scene, change)

    late = connect(user_client(make_user()))
    ack = late.join(scene.stream, last_seq=scene.before)
    # The reply's stored message quoted the words: the change recorded the reply anew, and the
    # earlier message is only a "superseded" stub now.
    changed = {"delete": "post.deleted", "hide": "post.hidden"}[change]
    assert [e["type"] for e in ack["missed"]] == ["superseded", changed, "post.updated"]
    assert SECRET not in str(ack["missed"])
    updated = ack["missed"][2]
    assert updated["post"]["id"] == scene.reply.id
    assert updated["post"]["quote"] == {"id": scene.source.id, "state": "deleted" if change == "delete" else "hidden"}


@pytest.mark.parametrize("change", ["delete", "hide"])
def test_the_words_leave_every_stored_message_too(db, scene, change):
    from sqlalchemy import select

    from forum.models import StreamEvent

    remove_the_source(db, scene, change)

    stored = db.session.scalars(select(StreamEvent.payload).where(StreamEvent.stream_key == scene.stream)).all()
    assert stored and not [payload for payload in stored if SECRET in str(payload)]


def test_hiding_then_restoring_the_quoted_post_replaces_its_quotes_both_ways(db, scene):
    scene.c.events()
    organiser = scene.consultation.owner
    moderation.hide_post(organiser, db.session.get(Post, scene.source.id), "Phone number")
    db.session.commit()
    hidden, updated = scene.c.events()
    assert hidden["type"] == "post.hidden" and updated["post"]["id"] == scene.reply.id
    assert updated["post"]["quote"] == {"id": scene.source.id, "state": "hidden"}
    assert SECRET not in str(hidden) + str(updated)

    moderation.restore_post(organiser, db.session.get(Post, scene.source.id))
    db.session.commit()
    restored, updated = scene.c.events()
    assert restored["type"] == "post.restored"
    quote = updated["post"]["quote"]
    assert (quote["state"], quote["name"], parse(quote["body_html"]).text()) == ("shown", "Ann", SECRET)
