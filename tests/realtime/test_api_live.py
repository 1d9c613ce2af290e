"""Writes through the JSON API (forum/api/) reach the room's live streams once committed,
exactly as the same writes over the socket do; a refused API write sends nothing."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from forum.services import api_tokens, events


@pytest.fixture
def api_scene(db, make_event, make_user, user_client, connect):
    """Room 1 with Amina (participant), Mo (its co-moderator) and Bruno (room 2): each has a
    socket; Amina and Mo an API token too. Olga watches room 1 (an observer's socket)."""
    from forum.models import EventMember
    from forum.models.events import MemberRole

    event = make_event(rooms=2, moderators=1, participants=2)
    amina, bruno = event.test_participants
    mo = event.test_moderators[1][0]
    olga = make_user(display_name="Olga")
    db.session.add(EventMember(event_id=event.id, user_id=olga.id, role=MemberRole.OBSERVER))
    tokens = {user.id: api_tokens.create_token(user, name="live", scope="write", days=7).secret for user in (amina, mo)}
    db.session.commit()
    room1 = event.breakout_rooms[0]
    stream = events.room_stream(room1)
    watcher = connect(user_client(olga))
    assert watcher.join(stream)["ok"]
    watcher.events()
    return SimpleNamespace(event=event, room1=room1, stream=stream, amina=amina, mo=mo, bruno=bruno,
                           watcher=watcher, socket=connect(user_client(amina)),
                           headers=lambda user: {"Authorization": f"Bearer {tokens[user.id]}"})


def _shape(value):
    """The keys of a message, all the way down (values differ between two posts)."""
    if isinstance(value, dict):
        return {key: _shape(inner) for key, inner in value.items() if key not in ("actions",)}
    return type(value).__name__


def test_a_message_posted_through_the_api_reaches_the_room_like_one_sent_over_the_socket(api_scene, client):
    s = api_scene
    assert s.socket.join(s.stream)["ok"]
    assert s.socket.post(s.stream, "By socket", client_key="socket-1")["ok"]
    [by_socket] = [e for e in s.watcher.events() if e["type"] == "post.created"]

    response = client.post(f"/api/v1/rooms/{s.room1.id}/messages", headers=s.headers(s.amina),
                           json={"body": "By the API", "client_key": "api-1"})
    assert response.status_code == 201, response.get_data(as_text=True)

    [by_api] = [e for e in s.watcher.events() if e["type"] == "post.created"]
    assert by_api["post"]["id"] == response.get_json()["id"] and "By the API" in by_api["post"]["body_html"]
    assert by_api["seq"] == by_socket["seq"] + 1 and by_api["stream"] == s.stream
    assert _shape(by_api) == _shape(by_socket)
    assert by_api["post"]["author"] == by_socket["post"]["author"]


def test_a_refused_api_message_sends_nothing(api_scene, client):
    s = api_scene
    for body in ({"body": ""}, {"body": "Not mine to say", "channel": "moderators"}):
        response = client.post(f"/api/v1/rooms/{s.room1.id}/messages", headers=s.headers(s.amina), json=body)
        assert response.status_code in (400, 403)
    assert s.watcher.events() == []


def test_the_moderators_api_actions_are_live(api_scene, client, db):
    s = api_scene
    posted = client.post(f"/api/v1/rooms/{s.room1.id}/messages", headers=s.headers(s.amina), json={"body": "Hm"})
    post_id = posted.get_json()["id"]
    assert client.put(f"/api/v1/rooms/{s.room1.id}/messages/{post_id}/hidden", headers=s.headers(s.mo),
                      json={"reason": "Off topic"}).status_code == 200
    assert client.put(f"/api/v1/rooms/{s.room1.id}/phase", headers=s.headers(s.mo),
                      json={"phase": "wrap_up", "wrap_up_minutes": 3}).status_code == 200
    arrived = s.watcher.events()
    assert [e["type"] for e in arrived] == ["post.created", "post.hidden", "room.state"]
    assert arrived[2]["data"]["phase"] == "wrap_up" and arrived[2]["data"]["room_id"] == s.room1.id
