"""Who reads a poll's results is nobody's business, and only those allowed are ever in a
results stream's room: no presence on `poll:` streams, the permission checked before the
socket joins the room, and a reader who loses access stops getting the poll's streams."""
from __future__ import annotations

from forum.extensions import socketio
from forum.presence import presence
from forum.realtime import handlers
from forum.services import events
from forum.services.poll_events import breakdown_stream, results_stream
from tests.realtime.test_poll_sockets import new_poll, option_ids, scene, vote  # noqa: F401


def test_a_results_stream_has_no_presence(db, scene, presence_announcements):  # noqa: F811
    poll = new_poll(scene.mo_user, scene.room, results_shown="after_vote")
    db.session.commit()
    assert vote(scene.amina, poll, [option_ids(poll)[0]])["ok"]
    stream = results_stream(poll)
    joined = scene.amina.join(stream, last_seq=0)
    assert joined["ok"] and "presence" not in joined  # (after_vote: being there says one voted)
    assert scene.mo.join(stream)["ok"] and scene.mo.join(breakdown_stream(poll))["ok"]
    assert not [s for s in presence_announcements if s.startswith("poll:")]
    assert presence.summary(stream)["users"] == [] and presence.summary(breakdown_stream(poll))["users"] == []
    scene.amina.emit("leave", {"stream": stream})
    scene.mo.disconnect()
    assert not [s for s in presence_announcements if s.startswith("poll:")]
    assert scene.amina.received("presence") == []
    # The room's own stream keeps its presence.
    assert "presence" in scene.amina.join(events.room_stream(scene.room))


def test_a_refused_join_is_never_in_the_room(db, scene, monkeypatch):  # noqa: F811
    """A broadcast sent while the join is being checked does not reach a socket that is then
    refused (the check comes before the room is joined)."""
    poll = new_poll(scene.mo_user, scene.room, results_shown="after_close")
    db.session.commit()
    stream = results_stream(poll)
    checked = handlers._access

    def access_with_a_broadcast(name):
        socketio.emit("event", {"stream": name, "type": "poll.results", "data": {"secret": True}}, to=name)
        return checked(name)

    monkeypatch.setattr(handlers, "_access", access_with_a_broadcast)
    refused = scene.amina.join(stream, last_seq=0)
    assert refused["ok"] is False and refused["error"]["code"] == 404
    assert [e for e in scene.amina.events() if e["stream"] == stream] == []
    # Its manager, allowed, joins as before.
    assert scene.mo.join(stream, last_seq=0)["ok"]


def poll_events_of(socket, stream):
    return [e for e in socket.events() if e["stream"] == stream]


def test_a_removed_co_moderator_stops_getting_the_breakdown(db, scene):  # noqa: F811
    from forum.services import event_setup

    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    stream = breakdown_stream(poll)
    assert scene.mo.join(stream, last_seq=0)["ok"]  # unpublished: its managers only
    assert scene.mo.join(results_stream(poll), last_seq=0)["ok"]
    assert vote(scene.amina, poll, [option_ids(poll)[0]])["ok"]
    assert [e["type"] for e in poll_events_of(scene.mo, stream)] == ["poll.breakdown"]

    room = scene.room
    [moderator] = [m for m in room.moderators if m.user_id == scene.mo_user.id]
    event_setup.remove_moderator(room.event.owner, moderator)
    db.session.commit()
    assert {"stream": stream} in scene.mo.received("rejoin")
    assert scene.mo.join(stream)["ok"] is False  # asked to join again, and refused

    assert vote(scene.bea, poll, [option_ids(poll)[1]])["ok"]
    assert poll_events_of(scene.mo, stream) == []


def test_a_participant_moved_out_of_a_room_stops_getting_its_poll_results(db, scene):  # noqa: F811
    from forum.models import EventMember
    from forum.services import event_setup

    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    stream = results_stream(poll)
    assert scene.amina.join(stream, last_seq=0)["ok"]
    assert scene.bea.join(stream, last_seq=0)["ok"]
    assert vote(scene.bea, poll, [option_ids(poll)[0]])["ok"]
    assert [e["type"] for e in poll_events_of(scene.amina, stream)] == ["poll.results"]

    event = scene.room.event
    member = db.session.query(EventMember).filter_by(event_id=event.id, user_id=scene.amina_user.id).one()
    event_setup.assign_member(event.owner, member, None)  # out of the room
    db.session.commit()
    assert {"stream": stream} in scene.amina.received("rejoin")
    assert scene.amina.join(stream)["ok"] is False
    assert scene.bea.join(stream)["ok"]  # Bea, still in the room, joins again

    assert vote(scene.bea, poll, [option_ids(poll)[1]])["ok"]
    assert poll_events_of(scene.amina, stream) == []
    assert [e["type"] for e in poll_events_of(scene.bea, stream)][-1:] == ["poll.results"]


def test_a_consultation_becoming_members_only_reauthorises_its_polls_streams(db, make_user, make_consultation,
                                                                             connect):
    owner = make_user("organiser")
    consultation = make_consultation(owner)
    poll = new_poll(owner, consultation)
    db.session.commit()
    assert events.poll_streams_of(events.consultation_stream(consultation)) == [
        results_stream(poll), breakdown_stream(poll)]
    assert events.poll_streams_of(f"{events.consultation_stream(consultation)}:other") == []
    reader = connect()  # anonymous: reads a public consultation's live results
    assert reader.join(results_stream(poll), last_seq=0)["ok"]
    events.reauthorise_stream_after_commit(events.consultation_stream(consultation))
    db.session.commit()
    assert {"stream": results_stream(poll)} in reader.received("rejoin")
