"""forum.services.feedback (docs/feedback.md): the form, answering once, anonymity (no join
possible between an answer and its author), ratings validated, the form locked after the
first answer, the results' figures; and the "feedback open" notice, sent once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from forum import permissions
from forum.models import EventMember
from forum.models.base import utcnow
from forum.models.events import EventStatus
from forum.models.feedback import FeedbackAnswer, FeedbackForm, FeedbackSubmission
from forum.models.notifications import Notification, NotificationKind
from forum.services import event_setup, notifications
from forum.services import feedback as service
from forum.services.errors import Conflict, PermissionDenied, ValidationError


@pytest.fixture
def ended(db, make_event):
    event = make_event(participants=4)
    event.status = EventStatus.ENDED
    db.session.flush()
    return event


def test_the_form_opens_when_the_event_is_over(db, make_event):
    event = make_event(participants=1)
    (person,) = event.test_participants
    assert not permissions.can_answer_feedback(person, event)
    with pytest.raises(PermissionDenied):
        service.answer(person, event, overall=4)
    event.ends_at = utcnow() - timedelta(minutes=1)  # past its end, not ended by hand
    db.session.flush()
    assert permissions.feedback_open(event) and permissions.can_answer_feedback(person, event)


def test_a_participant_answers_once(db, ended):
    person = ended.test_participants[0]
    service.answer(person, ended, overall=5, room_rating=4, comments=["Great", ""])
    assert not permissions.can_answer_feedback(person, ended)
    with pytest.raises(Conflict):
        service.answer(person, ended, overall=1)
    assert db.session.query(FeedbackAnswer).count() == 1
    assert db.session.query(FeedbackSubmission).count() == 1


def test_only_registered_members_answer(db, ended, make_user):
    with pytest.raises(PermissionDenied):
        service.answer(make_user(), ended, overall=3)
    with pytest.raises(PermissionDenied):
        service.answer(ended.owner, ended, overall=3)  # organisers read, they do not answer


def test_an_anonymous_answer_cannot_be_joined_to_its_author(db, ended):
    anonymous, named = ended.test_participants[:2]
    service.answer(anonymous, ended, overall=2, comments=["Too long"])
    service.answer(named, ended, overall=5, comments=["Loved it"], show_name=True)
    rows = {row.comments[0]: row for row in db.session.scalars(select(FeedbackAnswer))}
    assert rows["Too long"].author_id is None
    assert rows["Loved it"].author_id == named.id
    # No column of an answer points at a person but the chosen name; none of who answered
    # points at an answer; neither has a time nor an id in insertion order.
    answer_table, submission_table = FeedbackAnswer.__table__, FeedbackSubmission.__table__
    assert {fk.column.table.name for fk in answer_table.foreign_keys} == {"event", "room", "user"}
    assert [fk.parent.name for fk in answer_table.foreign_keys if fk.column.table.name == "user"] == ["author_id"]
    assert {fk.column.table.name for fk in submission_table.foreign_keys} == {"event", "user"}
    assert set(submission_table.columns.keys()) == {"event_id", "user_id"}
    for table in (answer_table, submission_table):
        assert not any("DateTime" in type(col.type).__name__ or col.name.endswith("_at") for col in table.columns)
    assert not str(rows["Too long"].id).isdigit() and len(rows["Too long"].id) == 32
    assert answer_table.dialect_options["sqlite"]["with_rowid"] is False
    assert submission_table.dialect_options["sqlite"]["with_rowid"] is False
    assert inspect(db.engine).get_table_names()  # the tables exist as declared


@pytest.mark.parametrize("bad", [0, 6, -1, "4", 3.5, True, None, "bad"])
def test_ratings_are_validated(db, ended, bad):
    person = ended.test_participants[0]
    with pytest.raises(ValidationError) as refused:
        service.answer(person, ended, overall=bad)
    assert refused.value.field == "overall"
    with pytest.raises(ValidationError):
        service.answer(person, ended, overall=3, room_rating=bad if bad is not None else 9)


def test_too_many_or_too_long_comments_are_refused(db, ended):
    person = ended.test_participants[0]
    with pytest.raises(ValidationError):
        service.answer(person, ended, overall=3, comments=["a", "b", "c"])  # two questions
    with pytest.raises(ValidationError):
        service.answer(person, ended, overall=3, comments=["x" * (service.COMMENT_LENGTH + 1)])


def test_the_organiser_edits_the_form_until_the_first_answer(db, ended, make_user):
    organiser = ended.owner
    assert service.stored_form(ended) is None and len(service.form_for(ended).questions) == 2
    with pytest.raises(PermissionDenied):
        service.save_form(ended.test_participants[0], ended, questions=["Hi?"], rate_room=True)
    form = service.save_form(organiser, ended, questions=["What did you learn?", "", " Anything else? "],
                             rate_room=False)
    assert form.questions == ["What did you learn?", "Anything else?"] and form.rate_room is False
    with pytest.raises(ValidationError):
        service.save_form(organiser, ended, questions=[f"Q{i}" for i in range(service.MAX_QUESTIONS + 1)],
                          rate_room=True)
    service.answer(ended.test_participants[0], ended, overall=4, room_rating=5)
    assert not permissions.can_edit_feedback_form(organiser, ended)
    with pytest.raises(Conflict):
        service.save_form(organiser, ended, questions=["Changed?"], rate_room=True)
    assert db.session.get(FeedbackForm, form.id).questions == ["What did you learn?", "Anything else?"]
    # rate_room off: no room rating is stored even when one is sent
    assert db.session.scalar(select(FeedbackAnswer.room_rating)) is None


def test_the_first_answer_stores_the_default_form_and_locks_it(db, ended):
    service.answer(ended.test_participants[0], ended, overall=4)
    assert service.stored_form(ended) is not None
    assert not permissions.can_edit_feedback_form(ended.owner, ended)


def test_results_count_mean_distribution_and_names_only_where_chosen(db, ended, make_user):
    room1, room2 = ended.breakout_rooms
    people = ended.test_participants  # placed in room 1, 2, 1, 2
    service.answer(people[0], ended, overall=5, room_rating=4, comments=["Good pace", "More time"])
    service.answer(people[1], ended, overall=3, room_rating=2, comments=["", "Better sound"], show_name=True)
    service.answer(people[2], ended, overall=4, room_rating=5)
    service.answer(people[3], ended, overall=4)
    results = service.results(ended.owner, ended)
    assert results.answers == 4
    assert results.overall.counts == {1: 0, 2: 0, 3: 1, 4: 2, 5: 1}
    assert results.overall.mean == pytest.approx(4.0)
    assert results.overall.share(4) == pytest.approx(0.5)
    rooms = {r.title: r.ratings for r in results.rooms}
    assert rooms[room1.title].counts == {1: 0, 2: 0, 3: 0, 4: 1, 5: 1} and rooms[room1.title].mean == 4.5
    assert rooms[room2.title].count == 1 and rooms[room2.title].mean == 2.0
    first, second = results.questions
    assert [(c.text, c.author) for c in first.comments] == [("Good pace", None)]
    assert sorted((c.text, c.author) for c in second.comments) == [
        ("Better sound", people[1].display_name), ("More time", None)]
    with pytest.raises(PermissionDenied):
        service.results(people[0], ended)


def test_ending_the_event_tells_its_participants_once(db, make_event, make_user):
    event = make_event(participants=3)
    stranger = make_user()
    event_setup.end_event(event.owner, event)
    db.session.commit()  # the job runs inline after the commit
    told = list(db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.FEEDBACK_OPEN)))
    assert sorted(n.user_id for n in told) == sorted(p.id for p in event.test_participants)
    assert stranger.id not in {n.user_id for n in told}
    # Asked again (a job run twice, the timer after the end): nobody is told twice.
    assert notifications.deliver_feedback_open(event.id, None) == []
    db.session.add(EventMember(event_id=event.id, user_id=stranger.id))
    db.session.flush()
    assert [n.user_id for n in notifications.deliver_feedback_open(event.id, None)] == [stranger.id]
    described = notifications.describe(told[0])
    assert "has ended" in described.text and described.url == f"/events/{event.id}/feedback"


def test_an_event_past_its_end_tells_its_participants_through_the_timer_once(db, make_event):
    event = make_event(participants=2)
    event.ends_at = utcnow() - timedelta(minutes=5)
    db.session.flush()
    assert notifications.create_due_reminders() == 2
    assert notifications.create_due_reminders() == 0
    answered = event.test_participants[0]
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == answered.id,
                                                           Notification.kind == NotificationKind.FEEDBACK_OPEN))
