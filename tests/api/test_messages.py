"""forum/api/messages.py: a room's messages as its page shows them to each reader, posting by
the room's rules, agreeing, and the moderators' actions on a message."""
from __future__ import annotations

import pytest

from forum.models import Endorsement, Post
from forum.services import moderation
from forum.services import posts as post_service
from tests.api.scene import count, error, ok
from tests.factories import login
from tests.web.page import csrf_token, parse


def _messages(live, who: str, room=None, **query) -> dict:
    return ok(live.call(who, "GET", f"/rooms/{(room or live.room1).id}/messages", query_string=query))


def _post(live, who: str, body="A new message", room=None, **fields):
    return live.call(who, "POST", f"/rooms/{(room or live.room1).id}/messages", json={"body": body, **fields})


def _room_posts(db, live) -> int:
    return count(db, Post, Post.room_id == live.room1.id)


# --- Reading -----------------------------------------------------------------------------

def test_messages_come_oldest_first_by_cursor_and_after_a_known_one(live, db):
    for n in range(4):
        post_service.post_in_room(live.amina, live.room1, body=f"Message {n}")
    db.session.commit()
    seen, cursor = [], None
    while True:
        page = _messages(live, "olga", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [m["body"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Housing comes first", "Message 0", "Message 1", "Message 2", "Message 3"]

    last = _messages(live, "olga", newest=True, limit=2)
    assert [m["body"] for m in last["items"]] == ["Message 2", "Message 3"] and last["next_cursor"] is None
    # Polling: nothing after the last one; then the new one alone.
    assert _messages(live, "olga", after=last["items"][-1]["id"])["items"] == []
    ok(_post(live, "amina", "Message 4"), 201)
    assert [m["body"] for m in _messages(live, "olga", after=last["items"][-1]["id"])["items"]] == ["Message 4"]


def test_a_message_reads_as_on_the_page(live):
    [message] = _messages(live, "mo")["items"]
    assert message["author"]["handle"] == live.amina.handle and "email" not in message["author"]
    assert message["body"] == "Housing comes first" and message["body_html"] == "<p>Housing comes first</p>\n"
    assert (message["status"], message["channel"], message["author_role"]) == ("published", "room", None)
    assert message["actions"] == ["endorse", "reply", "moderate"]
    mine = ok(live.call("amina", "GET", f"/rooms/{live.room1.id}/messages/{live.message.id}"))
    assert mine["actions"] == ["reply", "delete"] and mine["endorsed"] is False
    assert ok(_post(live, "mo", "From the chair"), 201)["author_role"] == "moderator"
    assert ok(_post(live, "organiser", "From the organiser"), 201)["author_role"] == "organiser"


@pytest.mark.parametrize(("who", "status"), [("visitor", 401), ("bruno", 403), ("xavier", 403)])
def test_who_may_not_read_the_room_reads_none_of_its_messages(live, who, status):
    error(live.call(who, "GET", f"/rooms/{live.room1.id}/messages"), status)
    error(live.call(who, "GET", f"/rooms/{live.room1.id}/messages/{live.message.id}"), status)


def test_a_message_of_another_room_is_not_found_here(live, db):
    theirs = post_service.post_in_room(live.bruno, live.room2, body="Room two")
    db.session.commit()
    error(live.call("mo", "GET", f"/rooms/{live.room1.id}/messages/{theirs.id}"), 404)
    error(live.call("organiser", "GET", f"/rooms/{live.room1.id}/messages/{theirs.id}"), 404)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "channel=secret", "after=-1", "after=x",
                                   "cursor=x", "cursor=3&after=2", "newest=true&after=2", "newest=maybe"])
def test_bad_listing_arguments_are_400(live, query):
    error(live.call("amina", "GET", f"/rooms/{live.room1.id}/messages?{query}"), 400, "invalid")


def test_a_hidden_message_is_a_placeholder_but_for_its_author_and_the_moderators(live, db):
    moderation.hide_post(live.mo, live.message, "Off topic")
    db.session.commit()
    [others] = _messages(live, "olga")["items"]
    assert others["hidden"] is True and others["body"] is None and others["body_html"] is None
    assert others["hidden_reason"] is None and others["author"]["id"] == live.amina.id
    for who in ("amina", "mo"):
        [message] = _messages(live, who)["items"]
        assert message["body"] == "Housing comes first" and message["hidden_reason"] == "Off topic"


def test_a_deleted_message_keeps_its_place_without_words_or_author(live):
    deleted = ok(live.call("amina", "DELETE", f"/rooms/{live.room1.id}/messages/{live.message.id}"))
    assert deleted["deleted"] is True and deleted["author"] is None and deleted["body"] is None
    [seen] = _messages(live, "olga")["items"]
    assert seen["id"] == live.message.id and seen["deleted"] is True and seen["body"] is None
    error(live.call("olga", "DELETE", f"/rooms/{live.room1.id}/messages/{live.message.id}"), 403)


def test_only_moderators_read_the_back_channel(live, db):
    post_service.post_in_room(live.mo, live.room1, body="Between us", backchannel=True)
    db.session.commit()
    assert [m["body"] for m in _messages(live, "organiser", channel="moderators")["items"]] == ["Between us"]
    assert [m["channel"] for m in _messages(live, "mo", channel="moderators")["items"]] == ["moderators"]
    assert "Between us" not in [m["body"] for m in _messages(live, "mo")["items"]]
    for who in ("amina", "olga"):
        error(live.call(who, "GET", f"/rooms/{live.room1.id}/messages?channel=moderators"), 403)


# --- Posting ---------------------------------------------------------------------------------

def test_a_participant_posts_and_replies_quoting(live, db):
    posted = ok(_post(live, "amina", "We need **childcare**"), 201)
    assert posted["body_html"] == "<p>We need <strong>childcare</strong></p>\n" and posted["status"] == "published"
    reply = ok(_post(live, "mo", "Say more?", parent_id=posted["id"], quote=True), 201)
    assert reply["parent_id"] == posted["id"] and reply["thread_id"] == posted["id"]
    assert reply["quote"]["post_id"] == posted["id"] and reply["quote"]["state"] == "shown"
    assert reply["quote"]["author"]["id"] == live.amina.id
    moderation.hide_post(live.mo, db.session.get(Post, posted["id"]), "No")
    db.session.commit()
    quote = ok(live.call("olga", "GET", f"/rooms/{live.room1.id}/messages/{reply['id']}"))["quote"]
    assert quote == {"post_id": posted["id"], "state": "hidden", "author": None, "body": None, "body_html": None}


def test_a_resent_message_is_stored_once(live, db):
    first = ok(_post(live, "amina", "Once", client_key="key-1"), 201)
    again = ok(_post(live, "amina", "Once", client_key="key-1"), 201)
    assert again["id"] == first["id"] and _room_posts(db, live) == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"body": ""}, "body"), ({"body": "  \n "}, "body"), ({}, "body"), ({"body": 12}, "body"),
    ({"body": "x" * 20_001}, "body"), ({"body": "ok", "parent_id": 99999999}, "parent_id"),
    ({"body": "ok", "parent_id": "1"}, "parent_id"), ({"body": "ok", "parent_id": True}, "parent_id"),
    ({"body": "ok", "client_key": "k" * 65}, "client_key"), ({"body": "ok", "channel": "everyone"}, "channel"),
    ({"body": "ok", "quote": "yes please"}, "quote"),
])
def test_bad_messages_are_refused_with_their_field_and_nothing_is_stored(live, db, body, field):
    refused = error(live.call("amina", "POST", f"/rooms/{live.room1.id}/messages", json=body), 400)
    assert field in refused["fields"], refused
    assert _room_posts(db, live) == 1


def test_a_body_that_is_not_json_is_refused(live, db):
    response = live.call("amina", "POST", f"/rooms/{live.room1.id}/messages", data="body=hello",
                         content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 415) and response.mimetype == "application/json"
    assert _room_posts(db, live) == 1


@pytest.mark.parametrize(("who", "status"), [("visitor", 401), ("bruno", 403), ("xavier", 403), ("olga", 403)])
def test_who_may_not_post_there_stores_nothing(live, db, who, status):
    error(_post(live, who), status)
    assert _room_posts(db, live) == 1


def test_a_read_only_token_does_not_post(live, db):
    error(live.call("amina", "POST", f"/rooms/{live.room1.id}/messages", scope="read", json={"body": "Hi"}), 403)
    assert _room_posts(db, live) == 1


def test_a_closed_room_takes_no_messages(live, db):
    from forum.services import rooms as room_service

    room_service.set_phase(live.mo, live.room1, "closed")
    db.session.commit()
    refused = error(_post(live, "amina"), 403)
    assert refused["message"] == "This room is closed: you can read its discussion."
    assert _room_posts(db, live) == 1


def test_slow_mode_answers_429_with_retry_after(live, db):
    moderation.set_slow_mode(live.mo, live.room1, 60)
    db.session.commit()
    response = _post(live, "amina", "Too soon")
    refused = error(response, 429, "rate_limited")
    assert "Slow mode is on" in refused["message"] and 0 < int(response.headers["Retry-After"]) <= 60
    assert _room_posts(db, live) == 1
    ok(_post(live, "mo", "Moderators are not slowed"), 201)


def test_a_premoderated_rooms_message_waits_for_a_moderator(live, db):
    moderation.set_premoderation(live.mo, live.room1, True)
    db.session.commit()
    waiting = ok(_post(live, "amina", "Please approve"), 201)
    assert waiting["status"] == "pending"
    assert waiting["id"] not in [m["id"] for m in _messages(live, "olga")["items"]]
    assert waiting["id"] in [m["id"] for m in _messages(live, "mo")["items"]]
    error(live.call("amina", "POST", f"/rooms/{live.room1.id}/messages/{waiting['id']}/approval"), 403)
    assert ok(live.call("mo", "POST", f"/rooms/{live.room1.id}/messages/{waiting['id']}/approval"))["status"] \
        == "published"
    error(live.call("mo", "POST", f"/rooms/{live.room1.id}/messages/{waiting['id']}/approval"), 409, "conflict")
    assert waiting["id"] in [m["id"] for m in _messages(live, "olga")["items"]]

    second = ok(_post(live, "amina", "And this?"), 201)
    path = f"/rooms/{live.room1.id}/messages/{second['id']}/rejection"
    assert "reason" in error(live.call("mo", "POST", path, json={}), 400)["fields"]
    rejected = ok(live.call("mo", "POST", path, json={"reason": "Repeats the first"}))
    assert rejected["status"] == "rejected"
    mine = ok(live.call("amina", "GET", f"/rooms/{live.room1.id}/messages/{second['id']}"))
    assert mine["rejected_reason"] == "Repeats the first"


def test_a_browser_session_writes_with_its_csrf_token(app, live, db):
    client = app.test_client()
    login(client, live.amina)
    app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_token(parse(client.get(f"/events/{live.event.id}/rooms/{live.room1.id}")))
    path = f"/api/v1/rooms/{live.room1.id}/messages"
    error(client.post(path, json={"body": "No token"}), 400, "csrf")
    assert _room_posts(db, live) == 1
    ok(client.post(path, json={"body": "With my token"}, headers={"X-CSRFToken": token}), 201)
    assert _room_posts(db, live) == 2


# --- Agreeing ---------------------------------------------------------------------------------

def test_agreeing_is_once_and_can_be_withdrawn(live, db):
    path = f"/rooms/{live.room1.id}/messages/{live.message.id}/endorsement"
    agreed = ok(live.call("mo", "PUT", path))
    assert (agreed["endorsement_count"], agreed["endorsed"]) == (1, True)
    assert ok(live.call("mo", "PUT", path))["endorsement_count"] == 1
    withdrawn = ok(live.call("mo", "DELETE", path))
    assert (withdrawn["endorsement_count"], withdrawn["endorsed"]) == (0, False)
    assert count(db, Endorsement) == 0


@pytest.mark.parametrize(("who", "status"), [("visitor", 401), ("amina", 403), ("olga", 403), ("bruno", 403)])
def test_who_may_not_agree_stores_nothing(live, db, who, status):
    error(live.call(who, "PUT", f"/rooms/{live.room1.id}/messages/{live.message.id}/endorsement"), status)
    assert count(db, Endorsement) == 0


# --- Moderating a message --------------------------------------------------------------------

def test_a_moderator_hides_restores_pins_and_unpins(live, db):
    path = f"/rooms/{live.room1.id}/messages/{live.message.id}"
    assert "reason" in error(live.call("mo", "PUT", f"{path}/hidden", json={"reason": " "}), 400)["fields"]
    hidden = ok(live.call("mo", "PUT", f"{path}/hidden", json={"reason": "Personal data"}))
    assert hidden["hidden"] is True and hidden["hidden_reason"] == "Personal data"
    error(live.call("mo", "PUT", f"{path}/hidden", json={"reason": "Again"}), 409, "conflict")
    error(live.call("mo", "PUT", f"{path}/pinned"), 409)  # a hidden message is not pinned
    assert ok(live.call("mo", "DELETE", f"{path}/hidden"))["hidden"] is False
    error(live.call("mo", "DELETE", f"{path}/hidden"), 409)
    assert ok(live.call("mo", "PUT", f"{path}/pinned"))["pinned"] is True
    assert ok(live.call("organiser", "DELETE", f"{path}/pinned"))["pinned"] is False


@pytest.mark.parametrize(("who", "status"), [("visitor", 401), ("amina", 403), ("olga", 403), ("bruno", 403)])
@pytest.mark.parametrize(("method", "tail", "body"), [("PUT", "hidden", {"reason": "No"}), ("PUT", "pinned", None)])
def test_only_moderators_hide_and_pin(live, db, who, status, method, tail, body):
    path = f"/rooms/{live.room1.id}/messages/{live.message.id}/{tail}"
    error(live.call(who, method, path, json=body), status)
    db.session.expire_all()
    message = db.session.get(Post, live.message.id)
    assert not message.is_hidden and message.pinned_at is None
