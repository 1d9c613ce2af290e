"""The plenary's Q&A over HTTP, without JavaScript: the section on the plenary's page, the
forms (ask, vote, moderate) coming back to #questions, the list fragment the script fetches,
and bad input answered 4xx with nothing stored."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.models import Question, QuestionStatus, QuestionVote
from forum.services import questions as service
from tests.factories import login
from tests.web.page import parse


def path(room, suffix: str = "") -> str:
    return f"/events/{room.event_id}/rooms/{room.id}{suffix}"


def stored(model=Question) -> int:
    from forum.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def scene(db, make_event):
    event = make_event(participants=2)
    db.session.commit()
    return event


def client_of(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_asking_on_the_plenarys_page_comes_back_to_the_questions(app, scene):
    alice = scene.test_participants[0]
    client = client_of(app, alice)
    page = parse(client.get(path(scene.plenary)))
    form = page.by_id("questions").find("form", class_="question-form")
    assert form.get("action") == path(scene.plenary, "/questions")
    assert page.by_id("question-body").tag == "textarea"

    response = client.post(path(scene.plenary, "/questions"), data={"question-body": "Who decides?",
                                                                     "question-anonymous": "y"})
    assert response.status_code == 302
    assert response.headers["Location"] == path(scene.plenary) + "#questions"
    question = Question.query.one()
    assert (question.body, question.anonymous, question.author_id) == ("Who decides?", True, alice.id)
    # The others see it without its author; its author sees it is theirs.
    bob_page = parse(client_of(app, scene.test_participants[1]).get(path(scene.plenary)))
    item = bob_page.by_id(f"question-{question.id}")
    assert "Who decides?" in item.text() and "Anonymous" in item.text()
    assert alice.display_name not in item.text()
    assert bob_page.find("button", class_="vote-button").get("aria-pressed") == "false"


def test_a_breakout_room_has_no_questions(app, scene):
    room = scene.breakout_rooms[0]
    client = client_of(app, scene.test_participants[0])
    assert parse(client.get(path(room))).find(id="questions") is None
    assert client.get(path(room, "/questions/list")).status_code == 404
    assert client.post(path(room, "/questions"), data={"question-body": "Here?"}).status_code == 404
    assert stored() == 0


@pytest.mark.parametrize("body", ["", "x" * 501])
def test_an_empty_or_too_long_question_is_shown_again_with_why_and_nothing_stored(app, scene, body):
    client = client_of(app, scene.test_participants[0])
    response = client.post(path(scene.plenary, "/questions"), data={"question-body": body})
    assert response.status_code == 400
    page = parse(response)
    assert page.field_error("question-body")
    assert page.by_id("question-body").value() == body
    assert stored() == 0


def test_voting_toggles_and_the_button_says_so(app, scene):
    alice, bob = scene.test_participants
    question = service.ask(alice, scene.plenary, "Budget?")
    from forum.extensions import db

    db.session.commit()
    client = client_of(app, bob)
    vote = path(scene.plenary, f"/questions/{question.id}/vote")
    response = client.post(vote, data={"action": "vote", "order": "recent"})
    assert response.headers["Location"] == path(scene.plenary) + "?questions=recent#questions"
    assert client.post(vote, data={"action": "vote"}).status_code == 302  # twice is once
    assert stored(QuestionVote) == 1
    fragment = parse(client.get(path(scene.plenary, "/questions/list?order=recent")))
    button = fragment.find("button", class_="vote-button")
    assert button.get("aria-pressed") == "true" and button.text().endswith("1")
    assert fragment.control("action").get("value") == "withdraw"
    client.post(vote, data={"action": "withdraw"})
    assert stored(QuestionVote) == 0
    assert client.post(vote, data={"action": "shout"}).status_code == 400
    # Its author has no vote button, only the count.
    own = parse(client_of(app, alice).get(path(scene.plenary, "/questions/list")))
    assert own.find("button", class_="vote-button") is None and "0 votes" in own.text()
    assert client_of(app, alice).post(vote, data={"action": "vote"}).status_code == 403
    assert stored(QuestionVote) == 0


@pytest.mark.parametrize("query", ["?order=loudest", "?order="])
def test_an_unknown_order_is_a_bad_request(app, scene, query):
    client = client_of(app, scene.test_participants[0])
    assert client.get(path(scene.plenary, "/questions/list" + query)).status_code == 400
    assert client.get(path(scene.plenary, query.replace("order", "questions"))).status_code == 400


def test_moderators_answer_reopen_and_dismiss_participants_may_not(app, scene):
    alice, bob = scene.test_participants
    question = service.ask(alice, scene.plenary, "Next steps?")
    from forum.extensions import db

    db.session.commit()
    moderate = path(scene.plenary, f"/questions/{question.id}/moderate")
    assert client_of(app, bob).post(moderate, data={"action": "answered"}).status_code == 403
    organiser = client_of(app, scene.owner)
    page = parse(organiser.get(path(scene.plenary)))
    assert "Mark answered" in page.by_id(f"question-{question.id}").text()
    assert organiser.post(moderate, data={"action": "answered"}).status_code == 302
    db.session.expire_all()
    assert question.status is QuestionStatus.ANSWERED
    fragment = parse(organiser.get(path(scene.plenary, "/questions/list")))
    assert fragment.find("ol", **{"data-question-group": "answered"}) is not None
    # A second moderator's click on the same state is told, not an error page.
    response = organiser.post(moderate, data={"action": "answered"}, follow_redirects=True)
    assert response.status_code == 200
    assert organiser.post(moderate, data={"action": "explode"}).status_code == 400
    organiser.post(moderate, data={"action": "dismiss", "reason": "Answered twice"})
    db.session.expire_all()
    assert (question.status, question.dismissed_reason) == (QuestionStatus.DISMISSED, "Answered twice")
    listing = client_of(app, bob).get(path(scene.plenary, "/questions/list")).get_data(as_text=True)
    assert "Next steps?" not in listing
    # A dismissed question is not found by those who may not see it.
    assert client_of(app, bob).post(path(scene.plenary, f"/questions/{question.id}/vote"),
                                    data={"action": "vote"}).status_code == 404


def test_premoderation_is_switched_by_the_organisers(app, scene):
    alice = scene.test_participants[0]
    settings = path(scene.plenary, "/questions/settings")
    assert client_of(app, alice).post(settings, data={"premoderated": "on"}).status_code == 403
    organiser = client_of(app, scene.owner)
    assert organiser.post(settings, data={"premoderated": "maybe"}).status_code == 400
    assert organiser.post(settings, data={"premoderated": "on"}).status_code == 302
    client_of(app, alice).post(path(scene.plenary, "/questions"), data={"question-body": "Pending?"})
    question = Question.query.one()
    assert question.status is QuestionStatus.PENDING
    assert "Pending?" not in client_of(app, scene.test_participants[1]).get(
        path(scene.plenary, "/questions/list")).get_data(as_text=True)
    assert "Approve" in parse(organiser.get(path(scene.plenary, "/questions/list"))).text()


def test_an_async_refusal_answers_4xx_for_the_script_to_send_the_form_normally(app, scene):
    client = client_of(app, scene.test_participants[0])
    response = client.post(path(scene.plenary, "/questions"), data={"question-body": ""},
                           headers={"X-Plenary-Async": "1"})
    assert response.status_code == 400
    response = client.post(path(scene.plenary, "/questions"), data={"question-body": "x" * 600},
                           headers={"X-Plenary-Async": "1"})
    assert response.status_code == 400
    assert stored() == 0


def test_the_plenarys_page_carries_its_readers_question_template_and_words(app, scene):
    """What the page's script builds live questions from: the item's template in the page's
    language with this reader's buttons (no question's data in it), and what the reader may do."""
    import json
    import re

    service.ask(scene.test_participants[1], scene.plenary, "Already asked, with <i>care</i>")
    from forum.extensions import db

    db.session.commit()
    readers = ((scene.test_participants[0], True, False), (scene.owner, True, True))
    for user, votes, moderates in readers:
        client = client_of(app, user)
        html = client.get(path(scene.plenary)).get_data(as_text=True)
        template = re.search(r'<script type="text/html" data-card="question">(.*?)</script>', html, re.S)
        assert template is not None
        skeleton = template.group(1)
        assert "Already asked" not in skeleton
        for slot in ("⟦id⟧", "⟦body⟧", "⟦votes⟧", "⟦created⟧", "⟦author_name⟧", "⟦upvote_label⟧"):
            assert slot in skeleton
        assert "/questions/⟦id⟧/vote" in skeleton
        assert 'data-if="vote"' in skeleton and 'data-if="anonymous"' in skeleton
        assert ('data-if="moderate"' in skeleton) is moderates  # a moderator's buttons: theirs alone
        words = json.loads(re.search(r'<script type="application/json" data-question-words>(.*?)</script>',
                                     html, re.S).group(1))
        assert words["reader"] == {"me": user.id, "vote": votes, "moderate": moderates}
        assert words["upvote"]["one"] == "Upvote ({n} vote)" and words["votes"]["other"] == "{n} votes"
