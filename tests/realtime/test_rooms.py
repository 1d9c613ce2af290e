"""Event rooms over Socket.IO: who may join a room's streams and post there, and that the
room's rules (phase, lock, mute, slow mode, pre-moderation) hold on the socket as on HTTP."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from forum.models import EventMember, Mute, Post, PostStatus
from forum.models.base import utcnow
from forum.models.events import MemberRole, RoomPhase
from forum.services import events


@pytest.fixture
def event_scene(db, make_event, make_user, user_client, connect):
    """An event with two breakout rooms; a participant of room 1 (Amina), one of room 2
    (Bruno), a co-moderator of room 1 (Mo), an observer (Olga) and an outsider (Xavier)."""
    event = make_event(rooms=2, moderators=1, participants=2)
    amina, bruno = event.test_participants
    olga, xavier = make_user(display_name="Olga"), make_user(display_name="Xavier")
    db.session.add(EventMember(event_id=event.id, user_id=olga.id, role=MemberRole.OBSERVER))
    db.session.commit()
    room1, room2 = event.breakout_rooms
    sockets = {name: connect(user_client(user)) for name, user in
               dict(amina=amina, bruno=bruno, mo=event.test_moderators[1][0], olga=olga, xavier=xavier).items()}
    # Each person's name is their socket; their account is `<name>_user`.
    return SimpleNamespace(event=event, room1=room1, room2=room2, amina_user=amina, mo_user=event.test_moderators[1][0],
                           stream1=events.room_stream(room1), mod1=events.moderators_stream(room1), **sockets)


@pytest.mark.parametrize(("who", "stream", "allowed"), [
    ("amina", "stream1", True), ("bruno", "stream1", False), ("mo", "stream1", True),
    ("olga", "stream1", True), ("xavier", "stream1", False),
    ("amina", "mod1", False), ("olga", "mod1", False), ("mo", "mod1", True), ("bruno", "mod1", False),
])
def test_who_may_join_a_room_and_its_moderators_channel(event_scene, who, stream, allowed):
    ack = getattr(event_scene, who).join(getattr(event_scene, stream))
    assert ack["ok"] is allowed, ack
    if not allowed:
        assert ack["error"]["code"] == 404


def test_joining_a_room_tells_its_state_and_the_servers_clock(event_scene, db):
    event_scene.room1.phase = RoomPhase.WRAP_UP
    event_scene.room1.wrap_up_ends_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    ack = event_scene.amina.join(event_scene.stream1)
    assert ack["room"]["phase"] == "wrap_up"
    assert ack["room"]["wrap_up_ends_at"] == event_scene.room1.wrap_up_ends_at.isoformat()
    assert abs((utcnow() - __import__("datetime").datetime.fromisoformat(ack["server_time"])).total_seconds()) < 60
    assert ack["can_post"] is True


def test_a_message_reaches_the_room_and_not_the_other_room(event_scene):
    assert event_scene.amina.join(event_scene.stream1)["ok"]
    assert event_scene.bruno.join(events.room_stream(event_scene.room2))["ok"]
    assert event_scene.mo.join(event_scene.stream1)["ok"]

    ack = event_scene.amina.post(event_scene.stream1, "Hello room one", client_key="k1")

    assert ack["ok"] and ack["post"]["status"] == "published"
    [seen] = [e for e in event_scene.mo.events() if e["type"] == "post.created"]
    assert seen["post"]["id"] == ack["post"]["id"] and "Hello room one" in seen["post"]["body_html"]
    assert [e for e in event_scene.bruno.events() if e["type"] == "post.created"] == []


@pytest.mark.parametrize("who", ["bruno", "olga", "xavier"])
def test_people_outside_the_room_or_observers_cannot_post_in_it(event_scene, stored, who):
    before = stored()
    ack = getattr(event_scene, who).post(event_scene.stream1, "Let me in")
    assert ack["ok"] is False and ack["error"]["code"] in (403, 404)
    assert stored() == before


def test_a_muted_participant_is_refused_on_an_open_socket(event_scene, db, stored):
    assert event_scene.amina.join(event_scene.stream1)["ok"]
    db.session.add(Mute(room_id=event_scene.room1.id, user_id=event_scene.amina_user.id,
                        until=utcnow() + timedelta(minutes=5), created_by_id=event_scene.mo_user.id))
    db.session.commit()
    before = stored()
    ack = event_scene.amina.post(event_scene.stream1, "Can you hear me?")
    assert ack["ok"] is False and ack["error"]["code"] == 403
    assert "muted" in ack["error"]["message"]
    assert stored() == before


def test_slow_mode_holds_on_the_socket_with_the_time_to_wait(event_scene, db):
    event_scene.room1.slow_mode_seconds = 60
    db.session.commit()
    assert event_scene.amina.post(event_scene.stream1, "First")["ok"]
    ack = event_scene.amina.post(event_scene.stream1, "Second, too soon")
    assert ack["ok"] is False and ack["error"]["code"] == 429
    assert 0 < ack["error"]["retry_after"] <= 60
    # Moderators are not slowed down.
    assert event_scene.mo.post(event_scene.stream1, "One")["ok"]
    assert event_scene.mo.post(event_scene.stream1, "Two")["ok"]


def test_premoderated_messages_reach_the_moderators_only(event_scene, db):
    event_scene.room1.premoderated = True
    db.session.commit()
    assert event_scene.mo.join(event_scene.mod1)["ok"]
    assert event_scene.olga.join(event_scene.stream1)["ok"]
    event_scene.mo.events(), event_scene.olga.events()

    ack = event_scene.amina.post(event_scene.stream1, "Please approve me")

    assert ack["ok"] and ack["post"]["status"] == "pending"
    assert db.session.get(Post, ack["post"]["id"]).status is PostStatus.PENDING
    queued = [e for e in event_scene.mo.events() if e["stream"] == event_scene.mod1]
    assert [e["type"] for e in queued] == ["post.pending"]
    assert event_scene.olga.events() == []


def test_the_back_channel_is_for_moderators(event_scene, stored):
    assert event_scene.mo.join(event_scene.mod1)["ok"]
    ack = event_scene.mo.post(event_scene.mod1, "Shall we move to wrap-up?")
    assert ack["ok"], ack
    before = stored()
    refused = event_scene.amina.post(event_scene.mod1, "Can I read this?")
    assert refused["ok"] is False and refused["error"]["code"] == 404
    assert stored() == before


def test_a_closed_room_refuses_messages_with_a_reason(event_scene, db):
    event_scene.room1.phase = RoomPhase.CLOSED
    db.session.commit()
    ack = event_scene.amina.post(event_scene.stream1, "Too late")
    assert ack["ok"] is False and ack["error"]["code"] == 403 and "closed" in ack["error"]["message"]


def test_a_wrap_up_whose_countdown_ran_out_is_closed_on_join(event_scene, db):
    event_scene.room1.phase = RoomPhase.WRAP_UP
    event_scene.room1.wrap_up_ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    ack = event_scene.amina.join(event_scene.stream1)
    assert ack["ok"] and ack["room"]["phase"] == "closed" and ack["can_post"] is False
    db.session.expire_all()
    assert event_scene.room1.phase is RoomPhase.CLOSED


@pytest.mark.parametrize("stream", ["room:", "room:x", "room:1:other", "room:1:moderators:x", "room:-1", "room:١"])
def test_malformed_room_streams_are_refused(event_scene, stream):
    ack = event_scene.amina.join(stream)
    assert ack["ok"] is False and ack["error"]["code"] in (400, 404)


def test_a_message_moved_to_another_room_no_longer_reaches_the_room_it_left(event_scene, db):
    from forum.services import moderation
    from forum.services import posts as post_service

    message = post_service.post_in_room(event_scene.amina_user, event_scene.room1, body="Belongs in room two")
    db.session.commit()
    moderation.move_post(event_scene.event.owner, message, room=event_scene.room2)
    db.session.commit()

    ack = event_scene.amina.emit("sync", {"stream": event_scene.stream1, "last_seq": 0})

    assert ack["ok"]
    created, moved = ack["events"][-2:]
    # What was broadcast when it arrived is superseded: catch-up says only that it left.
    assert created == {"stream": event_scene.stream1, "seq": created["seq"], "type": "superseded"}
    assert moved["type"] == "post.moved"
    assert moved["post"] == {"id": message.id, "left": True}
    assert "Belongs in room two" not in str(ack)


def test_a_pending_message_approved_is_announced_once_to_the_room(event_scene, db):
    from forum.services import moderation
    from forum.services import posts as post_service

    event_scene.room1.premoderated = True
    db.session.commit()
    message = post_service.post_in_room(event_scene.amina_user, event_scene.room1, body="Wait for me")
    db.session.commit()
    moderation.approve_post(event_scene.mo_user, message)
    db.session.commit()

    room = event_scene.olga.emit("sync", {"stream": event_scene.stream1, "last_seq": 0})["events"]
    queue = event_scene.mo.emit("sync", {"stream": event_scene.mod1, "last_seq": 0})["events"]

    assert [(e["type"], "Wait for me" in str(e["post"].get("body_html"))) for e in room] == [("post.created", True)]
    # The moderators' stream keeps the history, without the text of what left it.
    assert [e["type"] for e in queue] == ["superseded", "post.approved"]
    assert queue[1]["post"] == {"id": message.id, "left": True}
    assert "Wait for me" not in str(queue)
