"""forum/api/polls.py: a room's polls, results only where the poll shows them to the caller,
and voting by each kind's ballot, with the poll's own rules."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.models import PollVote
from forum.services import polls as poll_service
from tests.api.scene import count, error, ok


def _vote(live, who, poll, choice, **kwargs):
    return live.call(who, "POST", f"/polls/{poll.id}/votes", json={"choice": choice}, **kwargs)


def _ids(poll) -> list[int]:
    return [option.id for option in poll.options]


@pytest.fixture
def poll(live, db, make_poll):
    """A single-choice poll of room 1, open, results after voting, votes changeable."""
    made = make_poll(live.room1, by=live.mo, results_shown="after_vote")
    db.session.commit()
    return made


def test_a_rooms_polls_are_listed_to_its_readers_drafts_to_its_moderators(live, db, make_poll, poll):
    draft = make_poll(live.room1, by=live.mo, status="draft")
    db.session.commit()
    assert [p["id"] for p in ok(live.call("amina", "GET", f"/rooms/{live.room1.id}/polls"))["items"]] == [poll.id]
    assert [p["id"] for p in ok(live.call("mo", "GET", f"/rooms/{live.room1.id}/polls"))["items"]] \
        == [draft.id, poll.id]
    error(live.call("bruno", "GET", f"/rooms/{live.room1.id}/polls"), 403)
    error(live.call("visitor", "GET", f"/rooms/{live.room1.id}/polls"), 401)
    error(live.call("amina", "GET", f"/polls/{draft.id}"), 404)
    error(live.call("bruno", "GET", f"/polls/{poll.id}"), 404)


def test_results_after_voting_are_shown_once_the_caller_voted(live, poll):
    before = ok(live.call("amina", "GET", f"/polls/{poll.id}"))
    assert before["results"] is None and before["own_vote"] is None and before["can_vote"] is True
    assert [o["label"] for o in before["options"]] == ["Option 1", "Option 2", "Option 3"]
    assert ok(live.call("mo", "GET", f"/polls/{poll.id}"))["results"]["voters"] == 0  # it runs the poll

    voted = ok(_vote(live, "amina", poll, [_ids(poll)[1]]), 201)
    assert voted["own_vote"] == [_ids(poll)[1]]
    assert voted["results"]["voters"] == 1
    assert [o["votes"] for o in voted["results"]["options"]] == [0, 1, 0]
    assert voted["breakdowns"] is None  # not published
    assert ok(live.call("olga", "GET", f"/polls/{poll.id}"))["results"] is None


def test_results_after_the_close_wait_for_the_close(live, db, make_poll):
    poll = make_poll(live.room1, by=live.mo, results_shown="after_close")
    db.session.commit()
    assert ok(_vote(live, "amina", poll, _ids(poll)[0]), 201)["results"] is None
    poll_service.close_poll(live.mo, poll)
    db.session.commit()
    closed = ok(live.call("olga", "GET", f"/polls/{poll.id}"))
    assert closed["status"] == "closed" and closed["results"]["voters"] == 1 and closed["can_vote"] is False


@pytest.mark.parametrize(("kind", "ballot", "stored"), [
    ("single", lambda ids: ids[0], lambda ids: [ids[0]]),
    ("multiple", lambda ids: [ids[2], ids[0]], lambda ids: [ids[0], ids[2]]),
    ("score", lambda ids: {str(ids[0]): 5, str(ids[1]): 1}, lambda ids: {str(ids[0]): 5, str(ids[1]): 1}),
    ("ranked", lambda ids: [ids[2], ids[0], ids[1]], lambda ids: [ids[2], ids[0], ids[1]]),
    ("dots", lambda ids: {str(ids[1]): 7, str(ids[2]): 3}, lambda ids: {str(ids[1]): 7, str(ids[2]): 3}),
])
def test_each_kind_takes_its_ballot(live, db, make_poll, kind, ballot, stored):
    poll = make_poll(live.room1, by=live.mo, kind=kind, results_shown="live")
    db.session.commit()
    voted = ok(_vote(live, "amina", poll, ballot(_ids(poll))), 201)
    assert voted["own_vote"] == stored(_ids(poll)) and voted["results"]["kind"] == kind
    db.session.expire_all()
    assert db.session.scalar(select(PollVote.choice).where(PollVote.poll_id == poll.id)) == stored(_ids(poll))


@pytest.mark.parametrize(("kind", "ballot", "field"), [
    ("single", lambda ids: 99999999, "choice"), ("single", lambda ids: [], "choice"),
    ("single", lambda ids: [ids[0], ids[1]], "choice"), ("single", lambda ids: True, "choice"),
    ("single", lambda ids: None, "choice"), ("single", lambda ids: {"a": [1]}, "choice"),
    ("multiple", lambda ids: ids, "choice"), ("multiple", lambda ids: [ids[0], ids[0]], "choice"),
    ("score", lambda ids: {str(ids[0]): 9}, "choice.{0}"), ("score", lambda ids: {str(ids[0]): 2.5}, "choice.{0}"),
    ("ranked", lambda ids: {str(ids[0]): 1, str(ids[1]): 1}, "choice.{1}"),
    ("dots", lambda ids: {str(ids[0]): 11}, "choice"), ("dots", lambda ids: {str(ids[0]): -1}, "choice.{0}"),
    ("dots", lambda ids: "lots", "choice"),
])
def test_a_bad_ballot_is_refused_with_its_field_and_nothing_is_stored(live, db, make_poll, kind, ballot, field):
    poll = make_poll(live.room1, by=live.mo, kind=kind)
    db.session.commit()
    ids = _ids(poll)
    refused = error(_vote(live, "amina", poll, ballot(ids)), 400)
    assert list(refused["fields"]) == [field.format(*ids)], refused
    assert count(db, PollVote) == 0


def test_a_ballot_must_be_given(live, db, poll):
    assert "choice" in error(live.call("amina", "POST", f"/polls/{poll.id}/votes", json={}), 400)["fields"]
    assert count(db, PollVote) == 0


def test_a_vote_changes_where_the_poll_allows_it_and_not_twice_elsewhere(live, db, make_poll, poll):
    ok(_vote(live, "amina", poll, _ids(poll)[0]), 201)
    assert ok(_vote(live, "amina", poll, _ids(poll)[2]), 201)["own_vote"] == [_ids(poll)[2]]
    fixed = make_poll(live.room1, by=live.mo, votes_changeable=False)
    db.session.commit()
    ok(_vote(live, "amina", fixed, _ids(fixed)[0]), 201)
    ok(_vote(live, "amina", fixed, _ids(fixed)[0]), 201)  # the same ballot again: a retry
    refused = error(_vote(live, "amina", fixed, _ids(fixed)[1]), 403)
    assert refused["message"] == "You have already voted, and votes in this poll cannot be changed."
    db.session.expire_all()
    assert db.session.scalar(select(PollVote.choice).where(PollVote.poll_id == fixed.id)) == [_ids(fixed)[0]]


def test_a_closed_poll_takes_no_votes(live, db, make_poll):
    poll = make_poll(live.room1, by=live.mo, status="closed")
    db.session.commit()
    assert error(_vote(live, "amina", poll, _ids(poll)[0]), 403)["message"] == "This poll is closed."
    assert count(db, PollVote) == 0


@pytest.mark.parametrize(("who", "status"), [("visitor", 401), ("olga", 403), ("bruno", 404), ("xavier", 404)])
def test_who_may_not_vote_stores_nothing(live, db, poll, who, status):
    error(_vote(live, who, poll, _ids(poll)[0]), status)
    assert count(db, PollVote) == 0


def test_a_read_only_token_does_not_vote(live, db, poll):
    error(_vote(live, "amina", poll, _ids(poll)[0], scope="read"), 403)
    assert count(db, PollVote) == 0
