"""forum/api/questions.py: the plenary's questions as its page lists them, asking, upvoting."""
from __future__ import annotations

import pytest

from forum.models import Question, QuestionVote
from forum.services import questions as question_service
from tests.api.scene import count, error, ok


def _ask(live, who, body="Who funds this?", **fields):
    return live.call(who, "POST", f"/rooms/{live.plenary.id}/questions", json={"body": body, **fields})


def test_a_participant_asks_and_others_upvote_once(live, db):
    asked = ok(_ask(live, "amina"), 201)
    assert asked["status"] == "published" and asked["author"]["id"] == live.amina.id and asked["can_vote"] is False
    path = f"/rooms/{live.plenary.id}/questions/{asked['id']}/vote"
    voted = ok(live.call("bruno", "PUT", path))
    assert (voted["votes"], voted["voted"]) == (1, True)
    assert ok(live.call("bruno", "PUT", path))["votes"] == 1
    assert ok(live.call("bruno", "DELETE", path))["votes"] == 0
    assert error(live.call("amina", "PUT", path), 403)["message"] == "You cannot vote for your own question."
    assert count(db, QuestionVote) == 0


def test_an_anonymous_question_names_its_author_to_them_and_the_organisers_only(live):
    asked = ok(_ask(live, "amina", anonymous=True), 201)
    for who, named in (("amina", True), ("organiser", True), ("bruno", False), ("mo", False)):
        listing = ok(live.call(who, "GET", f"/rooms/{live.plenary.id}/questions"))
        [question] = [q for q in listing["open"] if q["id"] == asked["id"]]
        assert (question["author"] is not None) is named, who


def test_a_pending_question_is_its_authors_and_the_moderators(live, db):
    live.plenary.questions_premoderated = True
    db.session.commit()
    asked = ok(_ask(live, "amina"), 201)
    assert asked["status"] == "pending"
    assert [q["id"] for q in ok(live.call("amina", "GET", f"/rooms/{live.plenary.id}/questions"))["pending"]] \
        == [asked["id"]]
    assert ok(live.call("bruno", "GET", f"/rooms/{live.plenary.id}/questions"))["pending"] == []
    error(live.call("bruno", "PUT", f"/rooms/{live.plenary.id}/questions/{asked['id']}/vote"), 404)


def test_questions_are_sorted_by_votes_or_time(live, db):
    first = question_service.ask(live.amina, live.plenary, "First")
    second = question_service.ask(live.amina, live.plenary, "Second")
    question_service.vote(live.bruno, first)
    db.session.commit()
    by_votes = ok(live.call("bruno", "GET", f"/rooms/{live.plenary.id}/questions"))
    assert [q["id"] for q in by_votes["open"]] == [first.id, second.id] and by_votes["open"][0]["voted"] is True
    recent = ok(live.call("bruno", "GET", f"/rooms/{live.plenary.id}/questions?order=recent"))
    assert [q["id"] for q in recent["open"]] == [second.id, first.id]
    error(live.call("bruno", "GET", f"/rooms/{live.plenary.id}/questions?order=loudest"), 400, "invalid")


@pytest.mark.parametrize(("who", "room", "status"), [
    ("visitor", "plenary", 401), ("olga", "plenary", 403), ("xavier", "plenary", 403), ("amina", "room1", 404),
])
def test_who_may_not_ask_stores_nothing(live, db, who, room, status):
    response = live.call(who, "POST", f"/rooms/{getattr(live, room).id}/questions", json={"body": "Why?"})
    error(response, status)
    assert count(db, Question) == 0


@pytest.mark.parametrize(("body", "field"), [({"body": ""}, "body"), ({}, "body"), ({"body": "x" * 1001}, "body"),
                                             ({"body": "Why?", "anonymous": "maybe"}, "anonymous")])
def test_a_bad_question_is_refused_with_its_field(live, db, body, field):
    refused = error(live.call("amina", "POST", f"/rooms/{live.plenary.id}/questions", json=body), 400)
    assert field in refused["fields"]
    assert count(db, Question) == 0
