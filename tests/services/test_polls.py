"""The polls service: setting up, opening and closing, voting, and who sees results."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum import permissions
from forum.extensions import db
from forum.models import ModerationAction, PollVote, StreamEvent
from forum.models.base import clock_at, utcnow
from forum.models.polls import PollStatus
from forum.services import accounts, consultations, events
from forum.services import polls as service
from forum.services.errors import PermissionDenied, ValidationError
from forum.services.poll_events import breakdown_stream, results_stream


def votes() -> int:
    return db.session.scalar(select(func.count(PollVote.id)))


def recorded(kind: str) -> list:
    return [e for e in db.session.info.get("plenary.pending_events", [])
            if isinstance(e, StreamEvent) and e.kind == kind]


# --- Setting up ---------------------------------------------------------------------

def test_a_poll_is_created_as_a_draft_with_its_options_in_order(db, make_consultation):
    consultation = make_consultation(topics=2)
    poll = service.create_poll(consultation.owner, consultation, service.PollInput(
        kind="score", question="  How useful is each option? ", scale_min=1, scale_max=5,
        scale_labels={"1": "Not at all", "5": " Very ", "3": ""}, topic_id=consultation.topics[1].id),
        [("Small grants", "For small organisations"), "Simplified costs"])
    assert poll.status is PollStatus.DRAFT
    assert poll.question == "How useful is each option?"
    assert [(o.position, o.label, o.description) for o in poll.options] == [
        (1, "Small grants", "For small organisations"), (2, "Simplified costs", "")]
    assert poll.scale_labels == {"1": "Not at all", "5": "Very"}
    assert poll.topic_id == consultation.topics[1].id
    assert poll.position == 1
    second = service.create_poll(consultation.owner, consultation, {"kind": "single", "question": "Q?"}, ["a", "b"])
    assert second.position == 2


@pytest.mark.parametrize(("fields", "options", "field"), [
    ({"kind": "bogus"}, ["a", "b"], "kind"),
    ({"question": " "}, ["a", "b"], "question"),
    ({}, ["only one"], "options"),
    ({}, ["Same", "same"], "options"),
    ({}, [f"o{i}" for i in range(21)], "options"),
    ({"kind": "multiple", "max_choices": 3}, ["a", "b"], "max_choices"),
    ({"kind": "multiple", "max_choices": 0}, ["a", "b"], "max_choices"),
    ({"kind": "score", "scale_min": 5, "scale_max": 1}, ["a", "b"], "scale_max"),
    ({"kind": "score", "scale_min": 0, "scale_max": 20}, ["a", "b"], "scale_max"),
    ({"kind": "score", "scale_labels": {"7": "Too far"}}, ["a", "b"], "scale_labels"),
    ({"kind": "dots", "points": 0}, ["a", "b"], "points"),
    ({"kind": "dots", "points": 101}, ["a", "b"], "points"),
    ({"kind": "dots"}, ["a", "b"], "points"),
    ({"results_shown": "never"}, ["a", "b"], "results_shown"),
    ({"opens_at": "past"}, ["a", "b"], "opens_at"),
    ({"closes_at": "past"}, ["a", "b"], "closes_at"),
    ({"opens_at": "later", "closes_at": "soon"}, ["a", "b"], "closes_at"),
], ids=lambda v: str(v)[:30])
def test_bad_settings_are_refused_on_their_field_and_nothing_is_stored(db, make_consultation, fields, options,
                                                                        field):
    consultation = make_consultation()
    now = utcnow()
    times = {"past": now - timedelta(minutes=1), "soon": now + timedelta(hours=1), "later": now + timedelta(hours=2)}
    fields = {"kind": "single", "question": "Q?", **{k: times.get(v, v) if isinstance(v, str) else v
                                                      for k, v in fields.items()}}
    with pytest.raises(ValidationError) as refused:
        service.create_poll(consultation.owner, consultation, fields, options)
    assert refused.value.field == field
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(service.Poll)) == 0


def test_a_topic_of_another_consultation_is_refused(db, make_consultation):
    consultation, other = make_consultation(), make_consultation()
    with pytest.raises(ValidationError) as refused:
        service.create_poll(consultation.owner, consultation, {"kind": "single", "question": "Q?",
                                                               "topic_id": other.topics[0].id}, ["a", "b"])
    assert refused.value.field == "topic_id"


def test_only_organisers_set_up_polls(db, make_user, make_consultation, make_event):
    consultation = make_consultation()
    with pytest.raises(PermissionDenied):
        service.create_poll(make_user(), consultation, {"kind": "single", "question": "Q?"}, ["a", "b"])
    event = make_event()
    room = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    poll = service.create_poll(moderator, room, {"kind": "single", "question": "Q?"}, ["a", "b"])
    assert poll.room_id == room.id and poll.consultation_id is None
    with pytest.raises(PermissionDenied):  # another room's co-moderator
        service.create_poll(event.test_moderators[2][0], room, {"kind": "single", "question": "Q?"}, ["a", "b"])
    with pytest.raises(PermissionDenied):  # the plenary is the organisers'
        service.create_poll(moderator, event.plenary, {"kind": "single", "question": "Q?"}, ["a", "b"])


def test_a_draft_is_edited_and_an_opened_poll_is_not(db, make_poll):
    poll = make_poll(status="draft", options=3)
    owner = poll.consultation.owner
    service.update_poll(owner, poll, {"kind": "ranked", "question": "Order them"}, ["x", "y"])
    assert poll.kind.value == "ranked" and [o.label for o in poll.options] == ["x", "y"]
    service.update_poll(owner, poll, {"kind": "ranked", "question": "Order them"}, ["x", "y", "z", "w"])
    db.session.flush()
    assert [o.label for o in poll.options] == ["x", "y", "z", "w"]
    service.open_poll(owner, poll)
    with pytest.raises(ValidationError):
        service.update_poll(owner, poll, {"kind": "single", "question": "Q"}, ["a", "b"])


def test_opening_closing_and_publishing_are_logged_and_recorded(db, make_poll):
    poll = make_poll(status="draft")
    owner = poll.consultation.owner
    service.open_poll(owner, poll)
    assert poll.status is PollStatus.OPEN and recorded("poll.opened")
    with pytest.raises(ValidationError):
        service.open_poll(owner, poll)
    service.close_poll(owner, poll)
    assert poll.status is PollStatus.CLOSED and poll.closed_at is not None
    assert recorded("poll.closed") and recorded("poll.results")
    service.publish_breakdown(owner, poll)
    assert poll.breakdown_published
    with pytest.raises(ValidationError):
        service.publish_breakdown(owner, poll)
    db.session.flush()
    logged = list(db.session.scalars(select(ModerationAction.action).order_by(ModerationAction.id)))
    assert logged == ["poll.opened", "poll.closed", "poll.breakdown_published"]


def test_a_poll_whose_closing_time_has_passed_cannot_be_opened(db, make_poll):
    poll = make_poll(status="draft")
    poll.closes_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(ValidationError):
        service.open_poll(poll.consultation.owner, poll)


# --- Voting -------------------------------------------------------------------------

def test_a_vote_keeps_the_voters_country_and_organisation_type_as_they_were(db, make_user, make_poll):
    poll = make_poll()
    voter = make_user(country="DE", organisation_type="ngo")
    vote = service.cast_vote(voter, poll, [poll.options[1].id])
    assert vote.choice == [poll.options[1].id]
    accounts.update_profile(voter, voter, accounts.Profile(
        display_name=voter.display_name, organisation="", organisation_type="research", country="FR",
        preferred_language="en", timezone="Europe/Paris"))
    db.session.flush()
    assert (vote.country, vote.organisation_type) == ("DE", "ngo")


def test_a_vote_counts_nothing_in_its_transaction_a_job_publishes_after_commit(db, make_user, make_poll):
    poll = make_poll()
    db.session.commit()
    service.cast_vote(make_user(), poll, [poll.options[1].id])
    assert recorded("poll.results") == [] and recorded("poll.breakdown") == []
    stream = results_stream(poll)
    before = events.latest_seq(stream)
    db.session.commit()  # the job runs as the commit ends (POLL_RESULTS_DEBOUNCE_SECONDS is 0 in tests)
    assert events.latest_seq(stream) == before + 1
    [latest] = events.catch_up(stream, 0).events
    assert latest["data"]["results"]["voters"] == 1 and latest["data"]["status"] == "open"
    [by] = events.catch_up(breakdown_stream(poll), 0).events
    assert set(by["data"]["breakdowns"]) == {"country", "organisation_type"}


def test_closing_publishes_the_final_results_in_its_own_transaction(db, make_user, make_poll):
    poll = make_poll()
    service.cast_vote(make_user(), poll, [poll.options[0].id])
    db.session.commit()
    service.close_poll(poll.consultation.owner, poll)
    [results] = recorded("poll.results")  # not left to a job: the final figures go with the close
    db.session.commit()
    [latest] = events.catch_up(results_stream(poll), 0).events
    assert latest["seq"] == results.seq
    assert latest["data"]["status"] == "closed" and latest["data"]["results"]["voters"] == 1


def test_voting_twice_changes_the_ballot_where_changeable(db, make_user, make_poll):
    poll = make_poll(votes_changeable=True)
    voter = make_user()
    service.cast_vote(voter, poll, [poll.options[0].id])
    service.cast_vote(voter, poll, [poll.options[2].id])
    assert votes() == 1
    assert service.own_vote(voter, poll).choice == [poll.options[2].id]


def test_voting_twice_is_refused_where_votes_cannot_change(db, make_user, make_poll):
    poll = make_poll(votes_changeable=False)
    voter = make_user()
    service.cast_vote(voter, poll, [poll.options[0].id])
    with pytest.raises(PermissionDenied):
        service.cast_vote(voter, poll, [poll.options[2].id])
    assert service.own_vote(voter, poll).choice == [poll.options[0].id]


def test_the_same_ballot_sent_again_is_taken_as_it_stands_even_where_votes_cannot_change(db, make_user, make_poll):
    poll = make_poll(kind="ranked", votes_changeable=False)
    voter = make_user()
    first = service.cast_vote(voter, poll, [poll.options[2].id, poll.options[0].id])
    db.session.commit()
    again = service.cast_vote(voter, poll, [str(poll.options[2].id), str(poll.options[0].id)])  # as a form sends it
    assert again is first and votes() == 1
    assert recorded("poll.results") == []


def test_no_vote_or_change_after_close(db, make_user, make_poll):
    poll = make_poll()
    voter, late = make_user(), make_user()
    service.cast_vote(voter, poll, [poll.options[0].id])
    service.close_poll(poll.consultation.owner, poll)
    for person in (voter, late):
        with pytest.raises(PermissionDenied, match="closed"):
            service.cast_vote(person, poll, [poll.options[1].id])
    assert service.own_vote(voter, poll).choice == [poll.options[0].id]
    assert votes() == 1


def test_no_vote_once_the_closing_time_has_passed(db, make_user, make_poll):
    poll = make_poll(status="expired")
    with pytest.raises(PermissionDenied):
        service.cast_vote(make_user(), poll, [poll.options[0].id])


def test_no_vote_before_the_opening_time_nor_in_a_draft(db, make_user, make_poll):
    poll = make_poll(opens_at=utcnow() + timedelta(hours=1))
    voter = make_user()
    with pytest.raises(PermissionDenied, match="opens later"):
        service.cast_vote(voter, poll, [poll.options[0].id])
    with clock_at(utcnow() + timedelta(hours=2)):
        service.cast_vote(voter, poll, [poll.options[0].id])
    draft = make_poll(status="draft")
    with pytest.raises(PermissionDenied):
        service.cast_vote(voter, draft, [draft.options[0].id])


def test_no_vote_where_one_may_not_post(db, make_user, make_consultation, make_poll, make_event):
    closed_consultation = make_consultation()
    poll = make_poll(closed_consultation)
    consultations.set_status(closed_consultation.owner, closed_consultation, "closed")
    with pytest.raises(PermissionDenied):
        service.cast_vote(make_user(), poll, [poll.options[0].id])

    event = make_event(participants=2)
    room = event.breakout_rooms[0]
    in_room, elsewhere = event.test_participants  # placed in rooms 1 and 2
    room_poll = make_poll(room)
    service.cast_vote(in_room, room_poll, [room_poll.options[0].id])
    with pytest.raises(PermissionDenied):
        service.cast_vote(elsewhere, room_poll, [room_poll.options[0].id])
    room.locked = True
    db.session.flush()
    with pytest.raises(PermissionDenied):
        service.cast_vote(in_room, room_poll, [room_poll.options[1].id])


def test_a_bad_ballot_is_refused_and_nothing_is_stored(db, make_user, make_poll):
    poll = make_poll(kind="multiple", max_choices=2)
    other = make_poll()
    with pytest.raises(ValidationError):
        service.cast_vote(make_user(), poll, [o.id for o in poll.options])  # 3 of at most 2
    with pytest.raises(ValidationError):
        service.cast_vote(make_user(), poll, [other.options[0].id])  # another poll's option
    assert votes() == 0


# --- Results and who sees them --------------------------------------------------------

def test_results_and_breakdowns_count_the_ballots(db, make_user, make_poll):
    poll = make_poll(kind="single")
    first, second = poll.options[0].id, poll.options[1].id
    for i in range(6):
        service.cast_vote(make_user(country="DE"), poll, [first if i < 4 else second])
    service.cast_vote(make_user(country="FR"), poll, [second])
    results = service.poll_results(poll)
    assert results["voters"] == 7
    assert {row["id"]: row["votes"] for row in results["options"]}[first] == 4
    by_country = service.poll_breakdowns(poll)["country"]
    groups = {g["code"]: g for g in by_country["groups"]}
    # FR (1) alone could be worked out: DE is hidden with it, and neither says its size.
    assert groups["DE"]["suppressed"] and groups["FR"]["suppressed"] and groups["DE"]["voters"] is None
    assert by_country["suppressed_voters"] == 7


def test_who_sees_results_follows_the_setting(db, make_user, make_poll):
    reader, voter = make_user(), make_user()
    live = make_poll(results_shown="live")
    after_vote = make_poll(results_shown="after_vote")
    after_close = make_poll(results_shown="after_close")
    assert permissions.can_see_results(reader, live)
    assert not permissions.can_see_results(reader, after_vote)
    service.cast_vote(voter, after_vote, [after_vote.options[0].id])
    assert permissions.can_see_results(voter, after_vote)
    assert not permissions.can_see_results(reader, after_vote)
    service.cast_vote(voter, after_close, [after_close.options[0].id])
    assert not permissions.can_see_results(voter, after_close)
    assert permissions.can_see_results(after_close.consultation.owner, after_close)
    for poll in (after_vote, after_close):
        service.close_poll(poll.consultation.owner, poll)
        assert permissions.can_see_results(reader, poll)


def test_the_breakdown_is_the_organisers_until_published(db, make_user, make_poll):
    poll = make_poll(results_shown="live")
    reader = make_user()
    assert permissions.can_see_breakdown(poll.consultation.owner, poll)
    assert not permissions.can_see_breakdown(reader, poll)
    service.publish_breakdown(poll.consultation.owner, poll)
    assert permissions.can_see_breakdown(reader, poll)


def test_the_places_polls_hide_drafts_from_readers(db, make_user, make_consultation, make_poll):
    consultation = make_consultation()
    draft = make_poll(consultation, status="draft")
    opened = make_poll(consultation)
    assert service.polls_of(make_user(), consultation) == [opened]
    assert service.polls_of(consultation.owner, consultation) == [draft, opened]


# --- Deleting a draft -------------------------------------------------------------------

def test_a_draft_is_deleted_with_its_options_and_the_deletion_is_logged(db, make_poll):
    from forum.models.polls import Poll, PollOption

    poll = make_poll(status="draft", options=4)
    kept = make_poll(place=poll.consultation, status="draft")
    poll_id, question = poll.id, poll.question
    service.delete_poll(poll.consultation.owner, poll)
    db.session.expire_all()
    assert db.session.get(Poll, poll_id) is None
    assert db.session.scalar(select(func.count(PollOption.id)).where(PollOption.poll_id == poll_id)) == 0
    assert db.session.get(Poll, kept.id) is not None
    entry = db.session.scalars(select(ModerationAction)).one()
    assert (entry.action, entry.consultation_id, entry.details) == (
        "poll.deleted", kept.consultation_id, {"poll_id": poll_id, "question": question})
    assert recorded("poll.updated") == [] and recorded("poll.opened") == []  # nobody else ever saw it


@pytest.mark.parametrize("status", ["open", "closed", "expired"])
def test_an_opened_poll_is_never_deleted(db, make_poll, make_user, status):
    from forum.models.polls import Poll

    poll = make_poll(status=status)
    if status == "open":
        service.cast_vote(make_user(), poll, [poll.options[0].id])
    with pytest.raises(ValidationError) as refused:
        service.delete_poll(poll.consultation.owner, poll)
    assert "stays for the record" in str(refused.value.message)
    db.session.expire_all()
    assert db.session.get(Poll, poll.id) is not None
    assert "poll.deleted" not in set(db.session.scalars(select(ModerationAction.action)))


def test_only_those_who_run_a_poll_delete_it(db, make_poll, make_user, make_event):
    from forum.models.polls import Poll

    poll = make_poll(status="draft")
    for someone in (make_user(), make_user(role="organiser")):
        with pytest.raises(PermissionDenied):
            service.delete_poll(someone, poll)
    event = make_event()
    room = event.breakout_rooms[0]
    room_poll = make_poll(room, status="draft", by=event.test_moderators[1][0])
    with pytest.raises(PermissionDenied):  # another room's co-moderator
        service.delete_poll(event.test_moderators[2][0], room_poll)
    service.delete_poll(event.test_moderators[1][0], room_poll)
    db.session.expire_all()
    assert db.session.get(Poll, poll.id) is not None and db.session.get(Poll, room_poll.id) is None
    assert db.session.scalars(select(ModerationAction.room_id).where(
        ModerationAction.action == "poll.deleted")).one() == room.id


# --- A vote racing a close (PostgreSQL: two connections) ---------------------------------

@pytest.fixture
def two_connections(fresh_postgres_database):
    """An app on a database of its own (committed data, seen by every connection): an
    organiser's open poll and a voter. {"app", "poll_id", "organiser_id", "voter_id"}."""
    from forum import create_app
    from forum.models import User
    from tests.factories import DEFAULT_PASSWORD

    with fresh_postgres_database() as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            organiser = accounts.register("organiser@example.org", DEFAULT_PASSWORD,
                                          accounts.Profile("Organiser", "Org", "ngo", "BE"))
            accounts.set_roles(None, organiser, organiser=True)
            consultation = consultations.create_consultation(organiser, consultations.ConsultationInput(title="C"))
            consultations.add_topic(organiser, consultation, consultations.TopicInput(title="T"))
            consultations.set_status(organiser, consultation, "open")
            voter = accounts.register("voter@example.org", DEFAULT_PASSWORD,
                                      accounts.Profile("Voter", "Org", "ngo", "DE"))
            poll = service.create_poll(organiser, consultation, {"kind": "single", "question": "Q?"}, ["A", "B"])
            service.open_poll(organiser, poll)
            db.session.commit()
            found = {"app": app, "poll_id": poll.id, "organiser_id": organiser.id, "voter_id": voter.id}
            assert db.session.get(User, voter.id) is not None
        try:
            yield found
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _close_in_its_own_transaction(app, poll_id: int, organiser_id: int) -> None:
    from forum.models import User
    from forum.models.polls import Poll

    with app.app_context():  # another app context: another session, another connection
        service.close_poll(db.session.get(User, organiser_id), db.session.get(Poll, poll_id))
        db.session.commit()
        db.session.remove()


@pytest.mark.postgres
def test_a_vote_begun_before_a_close_commits_is_refused_after_it(two_connections):
    from forum.models import User
    from forum.models.polls import Poll

    app, poll_id = two_connections["app"], two_connections["poll_id"]
    with app.app_context():
        voter = db.session.get(User, two_connections["voter_id"])
        poll = db.session.get(Poll, poll_id)
        assert poll.status is PollStatus.OPEN  # the vote's transaction has read the poll open

        _close_in_its_own_transaction(app, poll_id, two_connections["organiser_id"])

        with pytest.raises(PermissionDenied, match="closed"):
            service.cast_vote(voter, poll, [poll.options[0].id])
        db.session.rollback()
        assert votes() == 0
        db.session.remove()


@pytest.mark.postgres
def test_a_close_waits_for_a_vote_in_flight_and_its_final_results_count_it(two_connections):
    import threading

    from sqlalchemy import text

    from forum.models import User
    from forum.models.polls import Poll

    app, poll_id = two_connections["app"], two_connections["poll_id"]
    closed = threading.Event()
    failed = []

    def close() -> None:
        try:
            _close_in_its_own_transaction(app, poll_id, two_connections["organiser_id"])
        except Exception as error:  # noqa: BLE001 - reported below
            failed.append(error)
        closed.set()

    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        service.cast_vote(db.session.get(User, two_connections["voter_id"]), poll, [poll.options[1].id])
        closing = threading.Thread(target=close)
        closing.start()
        # The close waits on the poll's row, locked by the vote until it commits.
        with db.engine.connect() as watcher:
            waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")

            def closers_waiting() -> int:
                found = watcher.execute(waiting).scalar_one()
                watcher.rollback()  # a transaction sees the activity as it was when it began
                return found
            for _ in range(3000):
                if closers_waiting() or closed.is_set():
                    break
                closed.wait(0.01)  # polling a condition, 30 s at most
            assert closers_waiting() == 1 and not closed.is_set()
        db.session.commit()
        assert closed.wait(30) and failed == []
        closing.join(30)
        db.session.expire_all()
        [final] = events.catch_up(results_stream(poll_id), 0).events
        assert final["data"]["status"] == "closed" and final["data"]["results"]["voters"] == 1
        db.session.remove()
