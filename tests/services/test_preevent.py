"""Pre-event input (docs/pre-event.md): questions, the answering window, one answer per person
and question, endorsements (once, never one's own), the boards, the digest and pinning."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.models import EventMember, Post, PreEventAnswer, PreEventEndorsement
from forum.models.base import utcnow
from forum.models.events import MemberRole, RoomPhase
from forum.services import events, preevent
from forum.services import rooms as room_service
from forum.services.errors import Conflict, NotFound, PermissionDenied, ValidationError


@pytest.fixture
def upcoming(db, make_event):
    """An event starting tomorrow, rooms not started, two participants per breakout room."""
    event = make_event(rooms=2, moderators=1, participants=4, phase="not_started")
    event.starts_at = utcnow() + timedelta(days=1)
    event.ends_at = event.starts_at + timedelta(hours=2)
    db.session.flush()
    room1, room2 = event.breakout_rooms
    event.q_all = preevent.add_question(event.owner, event, kind="priorities", label="Your top priority?")
    event.q_room1 = preevent.add_question(event.owner, event, kind="discuss", label="What should room 1 discuss?",
                                          room=room1)
    return event


def _start(db, event):
    event.starts_at = utcnow() - timedelta(minutes=1)
    db.session.flush()


def test_organisers_add_questions_with_a_kind_a_label_and_a_place(db, upcoming, make_user):
    event = upcoming
    assert [q.label for q in preevent.questions(event)] == ["Your top priority?", "What should room 1 discuss?"]
    with pytest.raises(ValidationError):
        preevent.add_question(event.owner, event, kind="wishes", label="?")
    with pytest.raises(ValidationError):
        preevent.add_question(event.owner, event, kind="priorities", label="   ")
    with pytest.raises(ValidationError):
        preevent.add_question(event.owner, event, kind="priorities", label="Plenary?", room=event.plenary)
    with pytest.raises(PermissionDenied):
        preevent.add_question(event.test_participants[0], event, kind="priorities", label="Mine?")


def test_one_answer_per_person_and_question_editable_until_the_start(db, upcoming):
    event = upcoming
    p1 = event.test_participants[0]  # room 1
    first = preevent.answer(p1, event.q_all, "Housing first")
    again = preevent.answer(p1, event.q_all, "Housing, then jobs")
    assert first.id == again.id and again.body == "Housing, then jobs"
    assert db.session.scalar(select(func.count(PreEventAnswer.id))) == 1
    _start(db, event)
    with pytest.raises(PermissionDenied, match="closes when the event starts"):
        preevent.answer(p1, event.q_all, "Too late")
    db.session.refresh(again)
    assert again.body == "Housing, then jobs"


def test_only_the_rooms_participants_answer_its_questions(db, upcoming, make_user):
    event = upcoming
    p1, p2 = event.test_participants[:2]  # room 1, room 2
    preevent.answer(p1, event.q_room1, "Recognition of skills")
    with pytest.raises(PermissionDenied):
        preevent.answer(p2, event.q_room1, "Not my room")
    observer = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER))
    db.session.flush()
    with pytest.raises(PermissionDenied):
        preevent.answer(observer, event.q_all, "Observers read only")
    with pytest.raises(PermissionDenied):
        preevent.answer(make_user(), event.q_all, "Not registered")
    with pytest.raises(ValidationError):
        preevent.answer(p1, event.q_all, " \n ")


def test_endorse_once_never_ones_own_and_only_before_the_start(db, upcoming):
    event = upcoming
    p1, p2, p3 = event.test_participants[:3]  # p1, p3 in room 1
    answer = preevent.answer(p1, event.q_all, "Housing first")
    with pytest.raises(PermissionDenied, match="own"):
        preevent.endorse(p1, answer)
    preevent.endorse(p2, answer)
    with pytest.raises(Conflict):
        preevent.endorse(p2, answer)
    preevent.endorse(p3, answer)
    assert answer.endorsement_count == 2
    preevent.withdraw_endorsement(p3, answer)
    assert answer.endorsement_count == 1
    _start(db, event)
    with pytest.raises(PermissionDenied):
        preevent.endorse(p3, answer)
    assert db.session.scalar(select(func.count(PreEventEndorsement.id))) == 1


def test_a_board_is_read_by_its_rooms_readers_most_endorsed_first(db, upcoming):
    event = upcoming
    room1, room2 = event.breakout_rooms
    p1, p2, p3 = event.test_participants[:3]
    low = preevent.answer(p1, event.q_room1, "Low")
    high = preevent.answer(p3, event.q_room1, "High")
    preevent.endorse(p1, high)
    board = preevent.board(p1, room1)
    assert [a.body for a in board.questions[0].answers] == ["High", "Low"]
    assert board.endorsed_ids == {high.id}
    with pytest.raises(NotFound):
        preevent.board(p2, room1)  # another room's board
    assert preevent.board(p2, room2).questions == []
    assert [q.question.label for q in preevent.board(p2, event.plenary).questions] == ["Your top priority?"]
    assert low.id not in board.endorsed_ids


def test_the_digest_opens_with_the_room_grouped_by_stakeholder_group(db, upcoming, make_user):
    event = upcoming
    room1 = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    p1, p3 = event.test_participants[0], event.test_participants[2]
    p1.organisation_type, p3.organisation_type = "ngo", "public_authority"
    a1 = preevent.answer(p1, event.q_room1, "From an NGO")
    a3 = preevent.answer(p3, event.q_room1, "From an authority")
    preevent.endorse(p1, a3)
    with pytest.raises(PermissionDenied):
        preevent.digest(moderator, room1)  # not open yet
    _start(db, event)
    room_service.set_phase(moderator, room1, "open")
    groups = preevent.digest(moderator, room1)
    assert [(g.organisation_type, [a.id for a in g.answers]) for g in groups] == [
        ("public_authority", [a3.id]), ("ngo", [a1.id])]
    with pytest.raises(PermissionDenied):
        preevent.digest(p1, room1)
    with pytest.raises(PermissionDenied):
        preevent.digest(event.test_moderators[2][0], room1)


def test_pinning_posts_a_pinned_moderator_message_quoting_the_answer(db, upcoming):
    event = upcoming
    room1 = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    p1 = event.test_participants[0]
    p1.display_name, p1.organisation = "Amina Diallo", "Passerelles"
    answer = preevent.answer(p1, event.q_room1, "Skills *recognition* @nobody\nsecond line")
    _start(db, event)
    with pytest.raises(PermissionDenied):
        preevent.pin(moderator, room1, answer)  # the room has not opened
    room_service.set_phase(moderator, room1, "open")
    post = preevent.pin(moderator, room1, answer)
    assert post.room_id == room1.id and post.author_id == moderator.id and post.pinned_at is not None
    assert answer.pinned_post_id == post.id
    assert "<blockquote>" in post.body_html and "*recognition*" in post.body_html
    assert "Amina Diallo, Passerelles" in post.body_html and "What should room 1 discuss?" in post.body_html
    assert "<a" not in post.body_html  # the @ is not a mention
    assert [m.id for m in room_service.pinned_messages(moderator, room1)] == [post.id]
    with pytest.raises(Conflict):
        preevent.pin(moderator, room1, answer)
    with pytest.raises(NotFound):
        preevent.pin(moderator, event.breakout_rooms[1], answer)  # not this room's input
    with pytest.raises(PermissionDenied):
        preevent.pin(p1, room1, answer)
    assert db.session.scalar(select(func.count(Post.id)).where(Post.pinned_at.is_not(None))) == 1


def test_a_pin_is_announced_only_after_commit(db, upcoming, monkeypatch):
    from forum.extensions import socketio

    sent = []
    monkeypatch.setattr(socketio, "emit", lambda name, message, to=None, **kw: sent.append(message))
    event = upcoming
    room1 = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    answer = preevent.answer(event.test_participants[0], event.q_room1, "Input")
    _start(db, event)
    room_service.set_phase(moderator, room1, "open")
    db.session.commit()
    sent.clear()
    post = preevent.pin(moderator, room1, answer)
    db.session.flush()
    assert sent == []
    db.session.commit()
    room_messages = [m for m in sent if m["stream"] == f"room:{room1.id}"]
    assert len(room_messages) == 2, sent  # the message, then its pin
    assert all(m.get("post", {}).get("id") == post.id for m in room_messages)
    # and the board's readers (the other moderators' consoles) hear that it is pinned
    assert [(m["stream"], m["type"], m["data"]) for m in sent if m not in room_messages] == [
        (f"preevent:{room1.id}", "preevent.pinned",
         {"answer_id": answer.id, "question_id": event.q_room1.id, "endorsement_count": 0, "post_id": post.id})]
    assert room1.phase is RoomPhase.OPEN


# --- Live: what each change tells the board's readers ---------------------------------------

@pytest.fixture
def sent(monkeypatch):
    """The live messages broadcast from now on: (stream, type, data)."""
    from forum.extensions import socketio

    messages = []
    monkeypatch.setattr(socketio, "emit", lambda name, message, to=None, **kw: messages.append(
        (message["stream"], message["type"], message.get("data")) if name == "event" else (name, to)))
    return messages


def test_answers_and_endorsements_go_to_their_boards_stream_after_commit_without_text(db, upcoming, sent):
    event = upcoming
    room1 = event.breakout_rooms[0]
    p1, p3 = event.test_participants[0], event.test_participants[2]  # both in room 1
    db.session.commit()
    mine = preevent.answer(p1, event.q_room1, "Skills recognition")
    wide = preevent.answer(p3, event.q_all, "Housing first")
    db.session.flush()
    assert sent == []  # nothing before the commit
    db.session.commit()
    board1, plenary = f"preevent:{room1.id}", f"preevent:{event.plenary.id}"
    assert sent == [
        (board1, "preevent.answered", {"answer_id": mine.id, "question_id": event.q_room1.id, "endorsement_count": 0}),
        (plenary, "preevent.answered", {"answer_id": wide.id, "question_id": event.q_all.id, "endorsement_count": 0})]
    sent.clear()

    preevent.answer(p1, event.q_room1, "Skills recognition, and fees")  # changed: the same answer again
    preevent.endorse(p3, mine)
    db.session.commit()
    preevent.withdraw_endorsement(p3, mine)
    db.session.commit()
    assert sent == [
        (board1, "preevent.answered", {"answer_id": mine.id, "question_id": event.q_room1.id, "endorsement_count": 0}),
        (board1, "preevent.endorsed", {"answer_id": mine.id, "question_id": event.q_room1.id, "endorsement_count": 1}),
        (board1, "preevent.endorsed", {"answer_id": mine.id, "question_id": event.q_room1.id, "endorsement_count": 0})]
    # Ids and counts only: no answer's words in any message, sent or stored for catching up.
    stored = events.catch_up(board1, 0).events
    assert [e["seq"] for e in stored] == [1, 2, 3, 4]
    assert "Skills" not in str(stored) and "Skills" not in str(sent)


def test_a_refused_or_rolled_back_change_sends_nothing(db, upcoming, sent):
    event = upcoming
    p1, p2 = event.test_participants[:2]  # room 1, room 2
    db.session.commit()
    with pytest.raises(PermissionDenied):
        preevent.answer(p2, event.q_room1, "Not my room")
    preevent.answer(p1, event.q_room1, "Rolled back")
    db.session.rollback()
    assert sent == []
    assert events.latest_seq(f"preevent:{event.breakout_rooms[0].id}") == 0


def test_removing_a_question_tells_its_board(db, upcoming, sent):
    event = upcoming
    preevent.answer(event.test_participants[0], event.q_room1, "Input")
    db.session.commit()
    sent.clear()
    question_id = event.q_room1.id
    preevent.remove_question(event.owner, event.q_room1)
    db.session.commit()
    assert sent == [(f"preevent:{event.breakout_rooms[0].id}", "preevent.removed", {"question_id": question_id})]
