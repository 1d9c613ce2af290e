"""A pre-event board over Socket.IO (docs/pre-event.md): "preevent:<room id>" is joined by
whoever may read the board and nobody else, lists nobody (reading the board is not being in
the room), takes no posts, brings each answer and endorsement live and on catch-up (ids and
counts, never the text), and is taken from a participant moved out of the room."""
from __future__ import annotations

from datetime import timedelta

import pytest

from forum.models import EventMember
from forum.models.base import utcnow
from forum.models.events import MemberRole
from forum.services import event_setup, events, preevent


@pytest.fixture
def upcoming(db, make_event, make_user):
    """An event starting tomorrow: room 1 with participants p1 and p3, room 2 with p2, an
    observer, and a question for room 1 and one for everyone."""
    event = make_event(rooms=2, moderators=1, participants=3, phase="not_started")
    event.starts_at = utcnow() + timedelta(days=1)
    event.ends_at = event.starts_at + timedelta(hours=2)
    event.observer = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=event.observer.id, role=MemberRole.OBSERVER))
    event.q_room1 = preevent.add_question(event.owner, event, kind="discuss", label="Room 1?",
                                          room=event.breakout_rooms[0])
    event.q_all = preevent.add_question(event.owner, event, kind="priorities", label="Everyone?")
    db.session.commit()
    return event


def board_events(socket, stream: str) -> list[dict]:
    return [e for e in socket.events() if e["stream"] == stream]


def test_the_boards_readers_join_it_and_nobody_else(db, upcoming, make_user, user_client, connect):
    event = upcoming
    room1 = event.breakout_rooms[0]
    p1, p2, _p3 = event.test_participants
    stream = events.preevent_stream(room1)
    for reader in (p1, event.test_moderators[1][0], event.owner, event.observer):
        assert connect(user_client(reader)).join(stream)["ok"], reader
    for refused in (p2, event.test_moderators[2][0], make_user(), None):  # another room's, an outsider, a visitor
        socket = connect(user_client(refused)) if refused else connect()
        answer = socket.join(stream)
        assert answer["ok"] is False and answer["error"]["code"] == 404
    # The plenary's board (the event-wide questions): every participant, whatever their room.
    assert connect(user_client(p2)).join(events.preevent_stream(event.plenary))["ok"]
    assert connect(user_client(p2)).join("preevent:abc")["ok"] is False


def test_the_board_lists_nobody_and_takes_no_posts(db, upcoming, user_client, connect):
    event = upcoming
    room1 = event.breakout_rooms[0]
    p1 = event.test_participants[0]
    socket = connect(user_client(p1))
    joined = socket.join(events.preevent_stream(room1))
    assert joined["ok"] and "presence" not in joined and "room" not in joined and joined["can_post"] is False
    # Reading the board is not being in the room: the room's own readers see nobody come.
    moderator = connect(user_client(event.test_moderators[1][0]))
    assert moderator.join(events.room_stream(room1))["presence"]["users"] == [
        {"id": event.test_moderators[1][0].id, "name": event.test_moderators[1][0].display_name}]
    refused = socket.post(events.preevent_stream(room1), "Hello")
    assert refused["ok"] is False
    assert events.latest_seq(events.room_stream(room1)) == 0  # nothing was posted in the room


def test_answers_and_endorsements_arrive_live_and_on_catch_up(db, upcoming, user_client, connect):
    event = upcoming
    room1 = event.breakout_rooms[0]
    p1, p2, p3 = event.test_participants
    stream = events.preevent_stream(room1)
    p3_socket, p2_socket = connect(user_client(p3)), connect(user_client(p2))
    assert p3_socket.join(stream, last_seq=0)["ok"]
    assert p2_socket.join(events.preevent_stream(event.plenary), last_seq=0)["ok"]

    field = f"answer-{event.q_room1.id}-body"
    response = user_client(p1).post(f"/events/{event.id}/pre-event/questions/{event.q_room1.id}/answer",
                                    data={field: "Recognise skills"})
    assert response.status_code == 302
    [answered] = board_events(p3_socket, stream)
    answer_id = answered["data"]["answer_id"]
    assert (answered["seq"], answered["type"], answered["data"]) == (
        1, "preevent.answered", {"answer_id": answer_id, "question_id": event.q_room1.id, "endorsement_count": 0})
    assert "Recognise" not in str(answered)

    response = user_client(p3).post(f"/events/{event.id}/pre-event/answers/{answer_id}/endorsement",
                                    data={"action": "endorse"})
    assert response.status_code == 302
    assert [(e["seq"], e["type"], e["data"]["endorsement_count"]) for e in board_events(p3_socket, stream)] == [
        (2, "preevent.endorsed", 1)]
    assert board_events(p2_socket, stream) == []  # room 2's participant, on the plenary's board

    # A reader who comes back catches up from the number the page was rendered with.
    late = connect(user_client(p1))
    caught_up = late.join(stream, last_seq=1)
    assert [(e["seq"], e["type"]) for e in caught_up["missed"]] == [(2, "preevent.endorsed")]


def test_a_participant_moved_out_of_the_room_is_asked_to_join_again_and_refused(db, upcoming, user_client,
                                                                                connect):
    event = upcoming
    room1 = event.breakout_rooms[0]
    p1 = event.test_participants[0]
    stream = events.preevent_stream(room1)
    socket = connect(user_client(p1))
    assert socket.join(stream)["ok"]
    member = db.session.query(EventMember).filter_by(event_id=event.id, user_id=p1.id).one()
    event_setup.assign_member(event.owner, member, event.breakout_rooms[1])
    db.session.commit()
    assert {"stream": stream} in socket.received("rejoin")
    assert socket.join(stream)["ok"] is False
    preevent.answer(event.test_participants[2], event.q_room1, "Said after the move")
    db.session.commit()
    assert board_events(socket, stream) == []
