"""Quotes on the pages: rendered from the quoted post for each reader (header in the reader's
language), a placeholder once it is deleted or hidden; on consultation and room pages."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.models import Post
from forum.services import moderation, posts
from tests.factories import login
from tests.web.page import parse, post_article

SECRET = "The tenant in flat 4 is behind on rent."


def quote_in(element, source_id: int):
    return element.one("blockquote", data_quoted_post=str(source_id))


@pytest.fixture
def consultation_quote(client, db, make_user, make_post):
    """An Italian-speaking participant quotes Ann's response through the reply form."""
    source = make_post(make_user(display_name="Ann"), body=SECRET)
    quoter = make_user(display_name="Bruno", preferred_language="it")
    db.session.commit()
    login(client, quoter)
    response = client.post(f"/consultations/{source.consultation_id}/posts/{source.id}/reply",
                           data={"body": "Sono d'accordo.", "quote": "y"})
    assert response.status_code == 302
    reply = db.session.scalar(select(Post).where(Post.parent_id == source.id))
    client.post("/logout")
    return source, reply


def test_the_reply_form_stores_a_reference_not_the_words(consultation_quote):
    source, reply = consultation_quote
    assert reply.quoted_post_id == source.id
    assert (reply.body, SECRET in reply.body_html) == ("Sono d'accordo.", False)


@pytest.mark.parametrize("language, header", [("en", "Ann wrote:"), ("it", "Ann ha scritto:")])
def test_a_consultation_quote_reads_in_each_readers_language(client, make_user, consultation_quote, language, header):
    source, reply = consultation_quote
    login(client, make_user(preferred_language=language))
    base = f"/consultations/{source.consultation_id}"
    for url in (base, f"{base}/posts/{source.id}"):
        quote = quote_in(post_article(parse(client.get(url)), reply.id), source.id)
        assert quote.one(class_="quote-head").text() == header
        assert quote.one(class_="quote-body").text() == SECRET


def test_a_deleted_posts_words_leave_the_quote(client, db, make_user, consultation_quote):
    source, reply = consultation_quote
    posts.delete_post(source.author, source)
    db.session.commit()
    login(client, make_user())
    response = client.get(f"/consultations/{source.consultation_id}")
    assert SECRET not in response.get_data(as_text=True)
    quote = quote_in(post_article(parse(response), reply.id), source.id)
    assert quote.text() == "This post was deleted."


def test_a_hidden_posts_words_leave_the_quote_for_every_reader(client, db, make_user, consultation_quote):
    source, reply = consultation_quote
    organiser = source.consultation.owner
    moderation.hide_post(organiser, source, "Personal details")
    db.session.commit()
    for reader in (make_user(), source.author, organiser):
        login(client, reader)
        quote = quote_in(post_article(parse(client.get(f"/consultations/{source.consultation_id}")), reply.id),
                         source.id)
        assert quote.text() == "This post was hidden by a moderator.", reader
        client.post("/logout")


# --- rooms ---------------------------------------------------------------------------------

def room_path(room, suffix: str = "") -> str:
    return f"/events/{room.event_id}/rooms/{room.id}{suffix}"


@pytest.fixture
def room_quote(client, db, make_event):
    event = make_event(rooms=1, moderators=1, participants=3)
    room = event.breakout_rooms[0]
    ann, bruno, reader = event.test_participants
    ann.display_name, bruno.preferred_language = "Ann", "it"
    source = posts.post_in_room(ann, room, body=SECRET)
    db.session.commit()
    login(client, bruno)
    response = client.post(room_path(room, "/messages"),
                           data={"body": "D'accordo.", "parent_id": str(source.id), "quote": "y"})
    assert response.status_code == 302
    client.post("/logout")
    reply = db.session.scalar(select(Post).where(Post.parent_id == source.id))
    return event, room, source, reply, reader


def test_the_room_composer_ticks_quoting_from_the_quote_link(client, db, room_quote):
    event, room, source, reply, reader = room_quote
    login(client, reader)
    page = parse(client.get(room_path(room)))
    link = page.by_id(f"post-{source.id}").one("a", data_quote=True)
    assert link.get("href").endswith(f"?reply_to={source.id}&quote=1#compose")
    composer = parse(client.get(link.get("href")))
    assert composer.control("quote").get("checked") is not None
    assert composer.control("parent_id").value() == str(source.id)


@pytest.mark.parametrize("language, header", [("en", "Ann wrote:"), ("it", "Ann ha scritto:")])
def test_a_room_quote_reads_in_each_readers_language(client, db, room_quote, language, header):
    event, room, source, reply, reader = room_quote
    assert reply.quoted_post_id == source.id and SECRET not in reply.body + reply.body_html
    reader.preferred_language = language
    db.session.commit()
    login(client, reader)
    quote = quote_in(parse(client.get(room_path(room))).by_id(f"post-{reply.id}"), source.id)
    assert quote.one(class_="quote-head").text() == header
    assert quote.one(class_="quote-body").text() == SECRET


@pytest.mark.parametrize("change, placeholder", [
    ("delete", "This message was deleted."),
    ("hide", "This message was hidden by a moderator."),
])
def test_a_deleted_or_hidden_messages_words_leave_the_room_quote(client, db, room_quote, change, placeholder):
    event, room, source, reply, reader = room_quote
    if change == "delete":
        posts.delete_post(source.author, source)
    else:
        moderation.hide_post(event.test_moderators[1][0], source, "Personal details")
    db.session.commit()
    login(client, reader)
    page = parse(client.get(room_path(room)))
    assert quote_in(page.by_id(f"post-{reply.id}"), source.id).text() == placeholder
    assert SECRET not in page.by_id(f"post-{reply.id}").text()
