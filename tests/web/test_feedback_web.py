"""Feedback over HTTP (docs/feedback.md), without JavaScript: the event page's links, the
participants' form (400 with the reason on bad input, nothing stored; once), the organisers'
form editor and results page, and who may open which."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.models.events import EventStatus
from forum.models.feedback import FeedbackAnswer, FeedbackForm
from forum.services import feedback as service
from tests.factories import login
from tests.web.page import parse


def answers() -> int:
    from forum.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(FeedbackAnswer))


@pytest.fixture
def ended(db, make_event):
    event = make_event(participants=2)
    event.status = EventStatus.ENDED
    db.session.commit()
    return event


def client_of(app, user):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def test_a_participant_answers_from_the_event_page_once(app, ended):
    person = ended.test_participants[0]
    client = client_of(app, person)
    page = parse(client.get(f"/events/{ended.id}"))
    assert [a.text() for a in page.find_all("a", href=f"/events/{ended.id}/feedback")] == [
        "Give feedback on this event"]
    form = parse(client.get(f"/events/{ended.id}/feedback"))
    assert form.find("legend") is not None and form.find("input", name="show_name") is not None
    response = client.post(f"/events/{ended.id}/feedback", data={
        "overall": "4", "room_rating": "5", "comment-0": "Clear agenda", "comment-1": ""})
    assert response.status_code == 302 and answers() == 1
    assert "Give feedback on this event" not in client.get(f"/events/{ended.id}").get_data(as_text=True)
    again = client.post(f"/events/{ended.id}/feedback", data={"overall": "1"})
    assert again.status_code == 409 and answers() == 1


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Choose a rating from 1 to 5."),
    ({"overall": "7"}, "Choose a rating from 1 to 5."),
    ({"overall": "four"}, "Choose a rating from 1 to 5."),
    ({"overall": "９"}, "Choose a rating from 1 to 5."),
    ({"overall": "3", "room_rating": "0"}, "Choose a rating from 1 to 5."),
    ({"overall": "3", "comment-0": "x" * 2001}, "at most"),
    ({"overall": "3", "comment-0": "nul\x00byte"}, "invalid characters"),
])
def test_bad_answers_are_refused_with_a_reason_and_nothing_stored(app, ended, data, message):
    client = client_of(app, ended.test_participants[0])
    response = client.post(f"/events/{ended.id}/feedback", data=data)
    assert response.status_code == 400
    assert message in parse(response).find("main").text()
    assert answers() == 0


def test_a_form_without_its_csrf_token_is_refused(app, ended):
    client = client_of(app, ended.test_participants[0])
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/events/{ended.id}/feedback", data={"overall": "3"}).status_code == 400
    assert answers() == 0


def test_the_organiser_edits_the_form_then_it_is_locked(app, db, ended):
    client = client_of(app, ended.owner)
    assert client.post(f"/events/{ended.id}/feedback/form", data={}).status_code == 400
    too_many = "\n".join(f"Question {i}?" for i in range(6))
    refused = client.post(f"/events/{ended.id}/feedback/form", data={"questions": too_many})
    assert refused.status_code == 400 and "at most 5" in refused.get_data(as_text=True)
    saved = client.post(f"/events/{ended.id}/feedback/form", data={"questions": "One?\r\nTwo?", "rate_room": "1"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(FeedbackForm.questions)) == ["One?", "Two?"]
    client_of(app, ended.test_participants[0]).post(f"/events/{ended.id}/feedback", data={"overall": "5"})
    locked = client.post(f"/events/{ended.id}/feedback/form", data={"questions": "Three?"})
    assert locked.status_code == 409
    assert "can no longer be changed" in client.get(f"/events/{ended.id}/feedback/form").get_data(as_text=True)


def test_the_results_page_shows_a_table_per_rating_and_names_only_where_chosen(app, db, ended):
    alice, bob = ended.test_participants
    service.answer(alice, ended, overall=5, comments=["Secret opinion"])
    service.answer(bob, ended, overall=3, comments=["Named opinion"], show_name=True)
    db.session.commit()
    page = parse(client_of(app, ended.owner).get(f"/events/{ended.id}/feedback/results"))
    main = page.find("main")
    table = main.find("table")
    assert table.find("caption").text() == "Overall rating"
    cells = [[c.text() for c in row.iter() if c.tag in ("th", "td")][:3]
             for row in table.find("tbody").find_all("tr")]
    assert cells[0] == ["5 – Very good", "1", "50%"] and cells[2] == ["3 – Fair", "1", "50%"]
    assert "Mean 4.0 from 2 answers." in main.text()
    text = main.text()
    assert "Secret opinion" in text and alice.display_name not in text
    assert f"Named opinion — {bob.display_name}" in " ".join(text.split())


@pytest.mark.parametrize("who", ["anonymous", "participant", "stranger", "organiser"])
def test_who_may_open_what(app, ended, make_user, who):
    user = {"anonymous": None, "participant": ended.test_participants[0], "stranger": make_user(),
            "organiser": ended.owner}[who]
    client = client_of(app, user)
    results = client.get(f"/events/{ended.id}/feedback/results")
    editor = client.get(f"/events/{ended.id}/feedback/form")
    if who == "anonymous":
        assert results.status_code == editor.status_code == 302
    elif who == "organiser":
        assert results.status_code == editor.status_code == 200
    else:
        assert results.status_code == editor.status_code == 403
    answering = client.post(f"/events/{ended.id}/feedback", data={"overall": "3"})
    expected = {"anonymous": 302, "participant": 302, "stranger": 403, "organiser": 403}[who]
    assert answering.status_code == expected
    assert answers() == (1 if who == "participant" else 0)
