"""The control room's stream, "event:<id>:control", over Socket.IO: who may join it, and the
snapshots a room's activity brings (forum/services/control_room.py; TestingConfig publishes
them as each write commits)."""
from __future__ import annotations

import pytest

from forum.services import control_room, events


@pytest.fixture
def live_event(db, make_event):
    event = make_event(rooms=2, moderators=1, participants=2)
    db.session.commit()
    return event


def _rooms(message) -> dict[int, dict]:
    return {room["room_id"]: room for room in message["data"]["rooms"]}


def test_the_organiser_watches_and_a_post_in_a_room_brings_new_figures(live_event, connect, user_client):
    room1 = live_event.breakout_rooms[0]
    organiser = connect(user_client(live_event.owner))
    stream = control_room.control_stream(live_event)
    answer = organiser.join(stream, last_seq=0)
    assert answer["ok"] is True and answer["can_post"] is False
    assert "presence" not in answer  # who watches is nobody's business
    # Joining asks for the figures as they are now.
    first = [e for e in organiser.events() if e["stream"] == stream]
    assert len(first) == 1 and first[0]["type"] == control_room.KIND
    assert _rooms(first[0])[room1.id]["recent"] == 0

    participant = connect(user_client(live_event.test_participants[0]))
    assert participant.join(events.room_stream(room1))["ok"] is True
    arrived = [e for e in organiser.events() if e["stream"] == stream]
    assert _rooms(arrived[-1])[room1.id]["present"] == 1  # the participant came in

    assert participant.post(events.room_stream(room1), "Hello room one")["ok"] is True
    arrived = [e for e in organiser.events() if e["stream"] == stream]
    assert len(arrived) == 1
    assert _rooms(arrived[0])[room1.id]["recent"] == 1
    assert arrived[0]["seq"] > first[0]["seq"]

    participant.disconnect()
    arrived = [e for e in organiser.events() if e["stream"] == stream]
    assert _rooms(arrived[-1])[room1.id]["present"] == 0  # and left


def test_a_reconnecting_organiser_catches_up_with_the_latest_snapshot_only(live_event, connect, user_client):
    room1 = live_event.breakout_rooms[0]
    stream = control_room.control_stream(live_event)
    organiser = connect(user_client(live_event.owner))
    organiser.join(stream, last_seq=0)
    participant = connect(user_client(live_event.test_participants[0]))
    participant.join(events.room_stream(room1))
    for n in range(3):
        participant.post(events.room_stream(room1), f"Message {n}")
    seqs = [e["seq"] for e in organiser.events() if e["stream"] == stream]
    assert len(seqs) >= 4
    again = connect(user_client(live_event.owner))
    answer = again.join(stream, last_seq=seqs[0])
    assert [e["seq"] for e in answer["missed"]] == [seqs[-1]]
    assert _rooms(answer["missed"][0])[room1.id]["recent"] == 3


@pytest.mark.parametrize("who", ["participant", "moderator", "anonymous"])
def test_others_are_refused(live_event, connect, user_client, who):
    user = {"participant": live_event.test_participants[0], "moderator": live_event.test_moderators[1][0],
            "anonymous": None}[who]
    socket = connect(user_client(user)) if user else connect()
    answer = socket.join(control_room.control_stream(live_event))
    assert answer["ok"] is False and answer["error"]["code"] == 404


@pytest.mark.parametrize("stream", ["event:1", "event:1:moderators", "room:1:control", "event:x:control"])
def test_only_the_control_substream_of_an_event_is_a_stream(live_event, connect, user_client, stream):
    answer = connect(user_client(live_event.owner)).join(stream)
    assert answer["ok"] is False and answer["error"]["code"] in (400, 404)


def test_nobody_can_post_to_it(live_event, connect, user_client):
    answer = connect(user_client(live_event.owner)).post(control_room.control_stream(live_event), "Hello")
    assert answer["ok"] is False
