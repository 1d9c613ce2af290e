"""The plenary's Q&A over Socket.IO: its events travel on the plenary's room stream, so its
readers get them, anyone who may not read the plenary gets nothing (not live, not by
catching up), and a pending question reaches its moderators only."""
from __future__ import annotations

from forum.models import EventMember
from forum.models.events import MemberRole
from forum.services import events


def _question_events(socket) -> list[dict]:
    return [e for e in socket.events() if e["type"].startswith("question.")]


def test_readers_of_the_plenary_get_questions_live_and_others_nothing(db, make_event, make_user, user_client,
                                                                       connect):
    event = make_event(participants=2, moderators=1)
    alice, bob = event.test_participants
    observer, outsider = make_user(), make_user("organiser")  # an organiser of other events
    db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER))
    db.session.commit()
    plenary = events.room_stream(event.plenary)
    bob_socket, observer_socket, outsider_socket = (connect(user_client(u)) for u in (bob, observer, outsider))
    visitor = connect()
    assert bob_socket.join(plenary)["ok"] and observer_socket.join(plenary)["ok"]
    assert outsider_socket.join(plenary)["ok"] is False
    assert visitor.join(plenary)["ok"] is False

    response = user_client(alice).post(f"/events/{event.id}/rooms/{event.plenary.id}/questions",
                                       data={"question-body": "Who pays?"})
    assert response.status_code == 302

    for socket in (bob_socket, observer_socket):
        got = _question_events(socket)
        assert [(e["type"], e["data"]["question"]["status"], e["data"]["question"]["votes"]) for e in got] == [
            ("question.asked", "published", 0)]
        # What every reader may see: the text (as text) and the author, named (not anonymous).
        assert got[0]["data"]["question"]["body"] == "Who pays?"
        assert got[0]["data"]["question"]["author"] == {"name": alice.display_name}
    assert _question_events(outsider_socket) == [] and _question_events(visitor) == []
    # Nor by catching up from the start.
    assert outsider_socket.join(plenary, last_seq=0)["ok"] is False


def test_an_anonymous_question_reaches_readers_without_its_author(db, make_event, user_client, connect):
    event = make_event(participants=2)
    alice, bob = event.test_participants
    bob_socket = connect(user_client(bob))
    assert bob_socket.join(events.room_stream(event.plenary))["ok"]

    user_client(alice).post(f"/events/{event.id}/rooms/{event.plenary.id}/questions",
                            data={"question-body": "Who <i>really</i> pays?", "question-anonymous": "y"})

    [asked] = _question_events(bob_socket)
    assert asked["data"]["question"]["body"] == "Who <i>really</i> pays?"
    assert "author" not in asked["data"]["question"] and "author_id" not in asked["data"]["question"]
    assert alice.display_name not in str(asked)


def test_a_pending_question_reaches_the_moderators_stream_only(db, make_event, user_client, connect):
    event = make_event(participants=2, moderators=1)
    alice, bob = event.test_participants
    event.plenary.questions_premoderated = True
    db.session.commit()
    bob_socket, owner_socket = connect(user_client(bob)), connect(user_client(event.owner))
    assert bob_socket.join(events.room_stream(event.plenary))["ok"]
    assert owner_socket.join(events.moderators_stream(event.plenary))["ok"]
    assert bob_socket.join(events.moderators_stream(event.plenary))["ok"] is False

    user_client(alice).post(f"/events/{event.id}/rooms/{event.plenary.id}/questions",
                            data={"question-body": "Pending?"})

    assert _question_events(bob_socket) == []
    assert [e["type"] for e in _question_events(owner_socket)] == ["question.asked"]
