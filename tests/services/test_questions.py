"""The plenary's Q&A: asking, voting (one each, withdrawable, races), moderating, the list
each reader sees, and the live events each change records."""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, update

from forum.extensions import db
from forum.models import ModerationAction, Question, QuestionStatus, QuestionVote, StreamEvent
from forum.models.events import EventStatus, RoomPhase
from forum.services import events
from forum.services import questions as service
from forum.services.errors import Conflict, PermissionDenied, ValidationError


def recorded() -> list[tuple[str, str, dict]]:
    return [(e.stream_key, e.kind, e.data) for e in db.session.info.get("plenary.pending_events", [])
            if isinstance(e, StreamEvent) and e.kind.startswith("question.")]


def votes_stored(question) -> int:
    return db.session.scalar(select(func.count(QuestionVote.id)).where(QuestionVote.question_id == question.id))


@pytest.fixture
def plenary(make_event):
    event = make_event(participants=3)
    event.plenary.test_participants = event.test_participants
    return event.plenary


def test_a_participant_asks_and_everyone_learns_it_on_the_plenarys_stream(db, plenary):
    alice = plenary.test_participants[0]
    db.session.info.pop("plenary.pending_events", None)
    question = service.ask(alice, plenary, "  What happens\r\nafter the event?  ")
    assert question.status is QuestionStatus.PUBLISHED
    assert question.body == "What happens\nafter the event?"
    assert question.vote_count == 0
    assert recorded() == [(events.room_stream(plenary), "question.asked", {"question": {
        "id": question.id, "status": "published", "votes": 0,
        "created_at": question.created_at.isoformat(timespec="microseconds"),
        "body": "What happens\nafter the event?",  # plain text: pages insert it as text
        "author_id": alice.id, "author": {"name": alice.display_name}}})]


def test_an_anonymous_questions_message_carries_no_author_at_all(db, plenary):
    alice = plenary.test_participants[0]
    db.session.info.pop("plenary.pending_events", None)
    question = service.ask(alice, plenary, "<b>Who</b> decides?", anonymous=True)
    service.mark_answered(plenary.event.owner, question)
    service.reopen(plenary.event.owner, question)
    messages = [data["question"] for _, _, data in recorded()]
    assert [m["status"] for m in messages] == ["published", "answered", "published"]
    for message in messages:
        assert set(message) == {"id", "status", "votes", "created_at", "body"}
        assert message["body"] == "<b>Who</b> decides?"  # as typed: text, never HTML
    assert alice.display_name not in str(recorded())


def test_a_vote_message_carries_the_figures_only(db, plenary):
    alice, bob, _ = plenary.test_participants
    question = service.ask(alice, plenary, "Who funds it?")
    db.session.info.pop("plenary.pending_events", None)
    service.vote(bob, question)
    assert recorded() == [(events.room_stream(plenary), "question.updated",
                           {"question": {"id": question.id, "status": "published", "votes": 1}})]


def test_a_dismissed_questions_text_leaves_the_stored_messages_catch_up_sends(db, plenary):
    alice, bob, _ = plenary.test_participants
    service.ask(bob, plenary, "Kept question")
    question = service.ask(alice, plenary, "Rude question")
    service.vote(bob, question)
    service.mark_answered(plenary.event.owner, question)
    db.session.commit()
    stream = events.room_stream(plenary)
    before = events.catch_up(stream, 0).events
    assert "Rude question" in str(before) and "Kept question" in str(before)
    service.dismiss(plenary.event.owner, question, "Rude")
    db.session.commit()
    after = events.catch_up(stream, 0).events
    assert "Rude question" not in str(after)
    assert "Kept question" in str(after)
    assert [e["seq"] for e in after] == [e["seq"] for e in before] + [before[-1]["seq"] + 1]
    assert [e["type"] for e in after][-1] == "question.removed"
    assert "superseded" in [e["type"] for e in after]  # clients count its number, apply nothing
    stored = db.session.scalars(select(StreamEvent).where(StreamEvent.stream_key == stream)).all()
    assert "Rude question" not in str([(e.data, e.payload) for e in stored])


@pytest.mark.parametrize("body", ["", "   ", "x" * 501, "bad\x00byte"])
def test_an_empty_too_long_or_invalid_question_is_refused_and_nothing_stored(db, plenary, body):
    with pytest.raises(ValidationError):
        service.ask(plenary.test_participants[0], plenary, body)
    assert db.session.scalar(select(func.count(Question.id))) == 0


def test_questions_are_asked_in_the_plenary_only_while_it_takes_them(db, plenary, make_user):
    alice = plenary.test_participants[0]
    breakout = plenary.event.breakout_rooms[0]
    with pytest.raises(PermissionDenied):
        service.ask(alice, breakout, "In a breakout room?")
    with pytest.raises(PermissionDenied):
        service.ask(make_user(), plenary, "Not registered")
    for phase in (RoomPhase.NOT_STARTED, RoomPhase.CLOSED):
        plenary.phase = phase
        with pytest.raises(PermissionDenied):
            service.ask(alice, plenary, "Too early or too late")
    plenary.phase = RoomPhase.WRAP_UP
    assert service.ask(alice, plenary, "During the wrap-up").status is QuestionStatus.PUBLISHED


def test_one_vote_each_withdrawable_never_ones_own(db, plenary):
    alice, bob, carol = plenary.test_participants
    question = service.ask(alice, plenary, "Who funds it?")
    with pytest.raises(PermissionDenied):
        service.vote(alice, question)
    assert service.vote(bob, question) is True
    assert service.vote(bob, question) is False  # twice is once
    assert service.vote(carol, question) is True
    assert question.vote_count == votes_stored(question) == 2
    assert service.withdraw_vote(bob, question) is True
    assert service.withdraw_vote(bob, question) is False
    db.session.expire_all()
    assert question.vote_count == votes_stored(question) == 1
    kinds = [kind for _, kind, _ in recorded()]
    assert kinds.count("question.updated") == 3  # two votes, one withdrawal: not the repeats
    assert recorded()[-1][2] == {"question": {"id": question.id, "status": "published", "votes": 1}}


def test_a_vote_stored_by_a_racing_request_is_not_counted_twice(db, plenary):
    alice, bob, carol = plenary.test_participants
    question = service.ask(alice, plenary, "Who funds it?")
    db.session.flush()
    # Bob's other tab stored his vote, and counted it, behind this session's back.
    db.session.execute(insert(QuestionVote).values(question_id=question.id, user_id=bob.id))
    db.session.execute(update(Question).where(Question.id == question.id)
                       .values(vote_count=Question.vote_count + 1).execution_options(synchronize_session=False))
    assert question.vote_count == 0  # this session's copy is stale
    assert service.vote(bob, question) is False
    assert service.vote(carol, question) is True  # counts from the stored value, not the stale one
    db.session.expire_all()
    assert question.vote_count == votes_stored(question) == 2


def test_premoderated_questions_wait_for_a_moderator_on_the_moderators_stream(db, plenary):
    alice, bob, _ = plenary.test_participants
    organiser = plenary.event.owner
    assert service.set_premoderation(organiser, plenary, True) is True
    assert service.set_premoderation(organiser, plenary, True) is False
    with pytest.raises(PermissionDenied):
        service.set_premoderation(alice, plenary, False)
    db.session.info.pop("plenary.pending_events", None)
    question = service.ask(alice, plenary, "Can we see the slides?")
    assert question.status is QuestionStatus.PENDING
    assert [(stream, kind, data["question"]["status"], data["question"]["body"])
            for stream, kind, data in recorded()] == [
        (events.moderators_stream(plenary), "question.asked", "pending", "Can we see the slides?")]
    with pytest.raises(PermissionDenied):
        service.vote(bob, question)
    assert service.list_questions(bob, plenary).pending == []
    assert service.list_questions(alice, plenary).pending == [question]  # its author sees it waiting
    assert service.list_questions(organiser, plenary).pending == [question]
    with pytest.raises(PermissionDenied):
        service.approve(bob, question)
    db.session.info.pop("plenary.pending_events", None)
    service.approve(organiser, question)
    assert question.status is QuestionStatus.PUBLISHED
    assert [(s, k) for s, k, _ in recorded()] == [(events.room_stream(plenary), "question.asked"),
                                                 (events.moderators_stream(plenary), "question.removed")]
    with pytest.raises(Conflict):  # another moderator was first
        service.approve(organiser, question)
    # The organisers' own questions need no approval.
    assert service.ask(organiser, plenary, "Any more?").status is QuestionStatus.PUBLISHED


def test_answering_reopening_and_dismissing_are_logged_and_live(db, plenary):
    alice, bob, _ = plenary.test_participants
    organiser = plenary.event.owner
    question = service.ask(alice, plenary, "When is the report out?")
    service.vote(bob, question)
    with pytest.raises(PermissionDenied):
        service.mark_answered(alice, question)
    service.mark_answered(organiser, question)
    assert question.status is QuestionStatus.ANSWERED and question.answered_at is not None
    with pytest.raises(Conflict):
        service.withdraw_vote(bob, question)  # votes are closed on an answered question
    service.reopen(organiser, question)
    assert question.status is QuestionStatus.PUBLISHED and question.answered_at is None
    db.session.info.pop("plenary.pending_events", None)
    service.dismiss(organiser, question, "  Off topic ")
    assert question.status is QuestionStatus.DISMISSED and question.dismissed_reason == "Off topic"
    assert recorded() == [(events.room_stream(plenary), "question.removed",
                           {"question": {"id": question.id, "status": "dismissed", "votes": 1}})]
    listing = service.list_questions(bob, plenary)
    assert listing.open == listing.answered == []
    assert service.list_questions(organiser, plenary).open == []
    db.session.flush()
    actions = db.session.scalars(select(ModerationAction.action).where(
        ModerationAction.room_id == plenary.id).order_by(ModerationAction.id)).all()
    assert actions == ["question.answered", "question.reopened", "question.dismissed"]


def test_an_ended_event_is_a_record_nobody_moderates_or_votes(db, plenary):
    alice, bob, _ = plenary.test_participants
    question = service.ask(alice, plenary, "Is this recorded?")
    plenary.event.status = EventStatus.ENDED
    with pytest.raises(PermissionDenied):
        service.mark_answered(plenary.event.owner, question)
    with pytest.raises(PermissionDenied):
        service.vote(bob, question)


def test_the_list_sorts_by_votes_or_time_with_the_answered_apart(db, plenary):
    alice, bob, carol = plenary.test_participants
    organiser = plenary.event.owner
    first = service.ask(alice, plenary, "First")
    second = service.ask(alice, plenary, "Second")
    third = service.ask(bob, plenary, "Third")
    answered = service.ask(carol, plenary, "Answered one")
    service.vote(bob, first)
    service.vote(carol, first)
    service.vote(carol, second)
    service.mark_answered(organiser, answered)
    by_votes = service.list_questions(carol, plenary, "votes")
    assert by_votes.open == [first, second, third]
    assert by_votes.answered == [answered]
    assert by_votes.voted_ids == {first.id, second.id}
    assert service.list_questions(carol, plenary, "recent").open == [third, second, first]
    assert service.list_questions(None, plenary).voted_ids == set()
    with pytest.raises(ValidationError):
        service.list_questions(carol, plenary, "loudest")


def test_of_two_moderators_acting_at_once_the_second_is_refused_and_nothing_is_logged(db, plenary):
    question = service.ask(plenary.test_participants[0], plenary, "Who pays for the mediators?")
    organiser = plenary.event.owner
    # Another moderator dismissed it after this request read it (the loaded status is stale).
    db.session.execute(update(Question).where(Question.id == question.id).values(status=QuestionStatus.DISMISSED)
                       .execution_options(synchronize_session=False))
    logged = db.session.scalar(select(func.count(ModerationAction.id)))
    db.session.info.pop("plenary.pending_events", None)
    with pytest.raises(Conflict):
        service.mark_answered(organiser, question)
    assert db.session.scalar(select(Question.status).where(Question.id == question.id)) is QuestionStatus.DISMISSED
    assert db.session.scalar(select(func.count(ModerationAction.id))) == logged and recorded() == []


def test_dismissing_an_anonymous_question_names_nobody_in_the_events_log(db, plenary):
    asker = plenary.test_participants[0]
    question = service.ask(asker, plenary, "Why is the budget cut?", anonymous=True)
    service.dismiss(plenary.event.owner, question, reason="Off topic")
    entry = db.session.scalars(select(ModerationAction).where(ModerationAction.action == "question.dismissed")).one()
    assert entry.target_user_id is None
    named = service.ask(plenary.test_participants[1], plenary, "And the schools?")
    service.dismiss(plenary.event.owner, named)
    assert db.session.scalars(select(ModerationAction.target_user_id).where(
        ModerationAction.action == "question.dismissed").order_by(ModerationAction.id)).all() == [
        None, plenary.test_participants[1].id]
