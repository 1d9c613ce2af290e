"""The organisers' control room: its figures (forum/services/control_room.py) for a scene built
through the services, the number of queries they take, and the job that publishes them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.models import StreamEvent
from forum.models.base import utcnow
from forum.presence import presence
from forum.services import control_room, events, moderation, rooms
from forum.services import posts as post_service


@pytest.fixture
def scene(db, make_event, make_user):
    """Room 1: three messages of its participants (one of them ten minutes old), a
    back-channel message and a raised hand, one message reported twice; room 2:
    pre-moderated, one message awaiting approval; the plenary: a broadcast only."""
    event = make_event(rooms=2, moderators=1, participants=4)
    room1, room2 = event.breakout_rooms
    a, b, c, d = event.test_participants  # a, c in room 1; b, d in room 2
    old = post_service.post_in_room(a, room1, body="one two three four")
    old.created_at = utcnow() - timedelta(minutes=10)
    post_service.post_in_room(a, room1, body="five six")
    reported = post_service.post_in_room(c, room1, body="seven")
    moderator1 = event.test_moderators[1][0]
    post_service.post_in_room(moderator1, room1, body="Between us", backchannel=True)
    moderation.flag_post(moderator1, reported, "Off topic")
    moderation.flag_post(event.owner, reported, "Rude")
    rooms.raise_hand(c, room1)
    moderation.set_premoderation(event.test_moderators[2][0], room2, True)
    post_service.post_in_room(b, room2, body="Please approve me")
    rooms.broadcast(event.owner, event, "Five minutes left")
    db.session.commit()
    return event


def _by_room(event):
    return {f.room_id: f for f in control_room.figures(event)}


def test_figures_of_every_room(scene):
    plenary, room1, room2 = scene.rooms
    figures = _by_room(scene)
    assert list(figures) == [plenary.id, room1.id, room2.id]  # in room order

    one = figures[room1.id]
    # Two recent messages (the old one, the back-channel and the broadcast are not counted).
    assert (one.recent, one.hands, one.pending, one.flags, one.placed) == (2, 1, 0, 1, 2)
    assert one.phase == "open" and one.wrap_up_ends_at is None
    # a: 6 words, c: 1 word -> the same Gini as the room's speaking share.
    assert one.balance == round(rooms.gini([6, 1]), 2) == round(
        rooms.speaking_share(scene.owner, room1).gini, 2)
    assert one.attention == ["flags"]

    two = figures[room2.id]
    # The message awaiting approval was said (it counts as activity), not yet heard.
    assert (two.recent, two.hands, two.pending, two.flags, two.placed) == (1, 0, 1, 0, 2)
    assert two.balance is None  # nothing published by a participant yet

    # The plenary: everyone registered is placed there; its broadcast is not a message.
    assert (figures[plenary.id].placed, figures[plenary.id].recent) == (4, 0)


def test_people_present_are_counted_once_each(scene):
    room1 = scene.breakout_rooms[0]
    a = scene.test_participants[0]
    stream = events.room_stream(room1)
    try:
        presence.add(stream, "sid-1", {"id": a.id, "name": a.display_name})
        presence.add(stream, "sid-2", {"id": a.id, "name": a.display_name})  # a second tab
        presence.add(stream, "sid-3", {})  # a connection without an account
        assert _by_room(scene)[room1.id].present == 1
    finally:
        for sid in ("sid-1", "sid-2", "sid-3"):
            presence.remove(stream, sid)


def test_a_long_queue_of_hands_or_of_messages_to_approve_needs_attention(db, make_event):
    event = make_event(rooms=1, moderators=1, participants=control_room.LONG_QUEUE)
    room = event.breakout_rooms[0]
    people = event.test_participants
    for person in people[:-1]:
        rooms.raise_hand(person, room)
    assert _by_room(event)[room.id].attention == []  # one hand short of a long queue
    rooms.raise_hand(people[-1], room)
    assert _by_room(event)[room.id].attention == ["queue"]
    moderation.set_premoderation(event.test_moderators[1][0], room, True)
    for person in people:
        post_service.post_in_room(person, room, body="Waiting for approval")
    figures = _by_room(event)[room.id]
    assert figures.pending == control_room.LONG_QUEUE
    assert figures.attention == ["queue", "approval"]


def test_a_quiet_room_is_marked(db, make_event):
    event = make_event(rooms=1, moderators=1, participants=1)
    room = event.breakout_rooms[0]
    person = event.test_participants[0]
    stream = events.room_stream(room)
    try:
        presence.add(stream, "sid-q", {"id": person.id, "name": person.display_name})
        assert _by_room(event)[room.id].attention == ["quiet"]
        post_service.post_in_room(person, room, body="Hello")
        assert _by_room(event)[room.id].attention == []
    finally:
        presence.remove(stream, "sid-q")


@pytest.mark.parametrize("breakout_rooms", [2, 8])
def test_the_number_of_queries_does_not_grow_with_the_rooms(db, make_event, count_queries, breakout_rooms):
    event = make_event(rooms=breakout_rooms, moderators=2, participants=2 * breakout_rooms)
    for i, person in enumerate(event.test_participants):
        post_service.post_in_room(person, event.breakout_rooms[i % breakout_rooms], body="A word or two")
    db.session.commit()
    db.session.expire_all()
    with count_queries() as statements:
        figures = control_room.figures(event)
    assert len(figures) == breakout_rooms + 1
    # The event (expired above), its rooms, their moderators, the posts' figures, hands,
    # reports, placements and the speaking shares' three: the same for 2 rooms as for 8.
    assert len(statements) == 10, statements


def _snapshots(event):
    return list(db_session().scalars(select(StreamEvent).where(
        StreamEvent.stream_key == control_room.control_stream(event)).order_by(StreamEvent.seq)))


def db_session():
    from forum.extensions import db

    return db.session


def test_a_post_publishes_the_figures_when_someone_watches(db, scene):
    room1 = scene.breakout_rooms[0]
    stream = control_room.control_stream(scene)
    a = scene.test_participants[0]
    post_service.post_in_room(a, room1, body="Nobody watches yet")
    db.session.commit()
    assert _snapshots(scene) == []  # nobody watches: the job does nothing
    presence.add(stream, "sid-organiser", {})
    try:
        post_service.post_in_room(a, room1, body="Now someone does")
        db.session.commit()
        snapshots = _snapshots(scene)
        assert len(snapshots) == 1 and snapshots[0].kind == control_room.KIND
        figures = {room["room_id"]: room for room in snapshots[0].payload["data"]["rooms"]}
        assert figures[room1.id]["recent"] == 4
        assert snapshots[0].payload["stream"] == stream
    finally:
        presence.remove(stream, "sid-organiser")


def _latest_figures(event) -> dict[int, dict]:
    latest = _snapshots(event)[-1]
    return {room["room_id"]: room for room in latest.payload["data"]["rooms"]}


def test_a_phase_change_and_a_moderators_stream_event_publish_too(db, scene):
    room1, room2 = scene.breakout_rooms
    stream = control_room.control_stream(scene)
    presence.add(stream, "sid-organiser", {})
    try:
        rooms.set_phase(scene.owner, room2, "closed")  # the room's stream
        db.session.commit()
        assert _latest_figures(scene)[room2.id]["phase"] == "closed"
        assert _latest_figures(scene)[room1.id]["hands"] == 1
        rooms.lower_hand(scene.test_participants[2], room1)  # the moderators' stream only
        db.session.commit()
        assert _latest_figures(scene)[room1.id]["hands"] == 0
        snapshots = _snapshots(scene)
        assert [s.seq for s in snapshots] == [1, 2]
        assert snapshots[0].payload is None  # a snapshot stream keeps its latest message only
    finally:
        presence.remove(stream, "sid-organiser")


def test_the_hook_costs_no_query_per_post(db, scene, count_queries):
    """Recording a room's event finds its event in the session: the watcher adds no statement."""
    room1 = scene.breakout_rooms[0]
    a = scene.test_participants[0]
    post_service.post_in_room(a, room1, body="warm up")
    db.session.flush()
    events._room_watchers.remove(control_room.room_changed)
    try:
        with count_queries() as without:
            post_service.post_in_room(a, room1, body="without the watcher")
            db.session.flush()
    finally:
        events.watch_rooms(control_room.room_changed)
    with count_queries() as with_it:
        post_service.post_in_room(a, room1, body="with the watcher")
        db.session.flush()
    assert len(with_it) == len(without)
    db.session.rollback()


def test_figures_that_did_not_change_are_not_recorded_again(db, scene):
    stream = control_room.control_stream(scene)
    presence.add(stream, "sid-organiser", {})
    try:
        control_room.publish_snapshot(scene.id)
        db.session.commit()
        control_room.publish_snapshot(scene.id)  # a decay run, someone who came and went
        db.session.commit()
        assert [s.seq for s in _snapshots(scene)] == [1]
        rooms.raise_hand(scene.test_participants[0], scene.breakout_rooms[0])
        db.session.commit()
        assert [s.seq for s in _snapshots(scene)] == [1, 2]
    finally:
        presence.remove(stream, "sid-organiser")


def test_while_a_room_had_recent_messages_the_job_runs_again_later(app, db, scene, make_event, monkeypatch):
    """So that "last 5 minutes" falls without activity: a run of its own key, DECAY seconds later."""
    asked = []
    monkeypatch.setattr(control_room.jobs, "enqueue",
                        lambda func, *args, **options: asked.append((func, args, options)))
    app.config["CONTROL_ROOM_DECAY_SECONDS"] = 30
    quiet = make_event(rooms=1)
    db.session.commit()
    for event in (scene, quiet):
        presence.add(control_room.control_stream(event), "sid-organiser", {})
    try:
        control_room.publish_snapshot(scene.id)
        db.session.commit()
        control_room.publish_snapshot(quiet.id)  # nothing said there: no later run
        db.session.commit()
    finally:
        for event in (scene, quiet):
            presence.remove(control_room.control_stream(event), "sid-organiser")
    assert [(args, options) for _func, args, options in asked] == [
        ((scene.id,), {"key": f"control-decay:{scene.id}", "debounce_seconds": 30})]
