"""Pre-event input over HTTP (docs/pre-event.md): the pages, clear 400s for bad input with
nothing stored, the moderators' console pane and pinning into the room."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.models import PreEventAnswer, PreEventQuestion
from forum.models.base import utcnow
from forum.services import preevent
from forum.services import rooms as room_service
from tests.factories import login


@pytest.fixture
def upcoming(db, make_event):
    event = make_event(rooms=2, moderators=1, participants=4, phase="not_started")
    event.starts_at = utcnow() + timedelta(days=1)
    event.q_room1 = preevent.add_question(event.owner, event, kind="discuss", label="What should room 1 discuss?",
                                          room=event.breakout_rooms[0])
    db.session.commit()
    return event


def _count(db, model):
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def test_a_participant_answers_and_edits_from_the_page(db, app, upcoming):
    event, p1 = upcoming, upcoming.test_participants[0]
    client = app.test_client()
    login(client, p1)
    page = client.get(f"/events/{event.id}/pre-event")
    assert page.status_code == 200 and "What should room 1 discuss?" in page.get_data(as_text=True)
    url = f"/events/{event.id}/pre-event/questions/{event.q_room1.id}/answer"
    field = f"answer-{event.q_room1.id}-body"
    assert client.post(url, data={field: "Skills"}).status_code == 302
    assert client.post(url, data={field: "Skills and housing"}).status_code == 302
    db.session.expire_all()
    assert [a.body for a in db.session.scalars(select(PreEventAnswer))] == ["Skills and housing"]
    assert "Pre-event input" in client.get(f"/events/{event.id}").get_data(as_text=True)


@pytest.mark.parametrize("data", [{}, {"answer-QID-body": "   "}, {"answer-QID-body": "a" * 2001},
                                  {"answer-QID-body": "bad\x00byte"}])
def test_a_bad_answer_is_a_400_and_stores_nothing(db, app, upcoming, data):
    event = upcoming
    client = app.test_client()
    login(client, event.test_participants[0])
    data = {k.replace("QID", str(event.q_room1.id)): v for k, v in data.items()}
    response = client.post(f"/events/{event.id}/pre-event/questions/{event.q_room1.id}/answer", data=data)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert _count(db, PreEventAnswer) == 0


@pytest.mark.parametrize("data", [{"kind": "wishes", "label": "Q?", "room_id": ""},
                                  {"kind": "priorities", "label": "", "room_id": ""},
                                  {"kind": "priorities", "label": "Q?", "room_id": "abc"},
                                  {"kind": "priorities", "label": "x" * 301, "room_id": ""}])
def test_a_bad_question_is_a_400_and_stores_nothing(db, app, upcoming, data):
    event = upcoming
    client = app.test_client()
    login(client, event.owner)
    response = client.post(f"/events/{event.id}/pre-event/questions", data=data)
    assert response.status_code == 400
    assert _count(db, PreEventQuestion) == 1


def test_a_question_for_another_events_room_is_not_found(db, app, upcoming, make_event):
    other = make_event(rooms=1)
    db.session.commit()
    client = app.test_client()
    login(client, upcoming.owner)
    response = client.post(f"/events/{upcoming.id}/pre-event/questions",
                           data={"kind": "priorities", "label": "Q?", "room_id": str(other.breakout_rooms[0].id)})
    assert response.status_code == 404
    assert _count(db, PreEventQuestion) == 1


def test_an_unknown_endorsement_action_is_a_400(db, app, upcoming):
    event = upcoming
    answer = preevent.answer(event.test_participants[2], event.q_room1, "Input")
    db.session.commit()
    client = app.test_client()
    login(client, event.test_participants[0])
    url = f"/events/{event.id}/pre-event/answers/{answer.id}/endorsement"
    assert client.post(url, data={"action": "both"}).status_code == 400
    assert client.post(url, data={"action": "endorse"}).status_code == 302
    assert client.post(url, data={"action": "endorse"}).status_code == 409
    db.session.expire_all()
    assert db.session.get(PreEventAnswer, answer.id).endorsement_count == 1


def test_the_console_pane_digests_the_input_and_pins_it_into_the_room(db, app, upcoming):
    event = upcoming
    room1 = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    author = event.test_participants[0]
    answer = preevent.answer(author, event.q_room1, "Recognise migrants' skills")
    client = app.test_client()
    login(client, moderator)
    db.session.commit()
    room_url = f"/events/{event.id}/rooms/{room1.id}"
    assert 'id="preevent"' not in client.get(room_url).get_data(as_text=True)  # not open yet
    event.starts_at = utcnow() - timedelta(minutes=1)
    room_service.set_phase(moderator, room1, "open")
    db.session.commit()
    page = client.get(room_url).get_data(as_text=True)
    assert 'id="preevent"' in page and "Recognise migrants&#39; skills" in page
    response = client.post(f"/events/{event.id}/pre-event/answers/{answer.id}/pin",
                           data={"next": f"{room_url}#preevent"})
    assert response.status_code == 302
    page = client.get(room_url).get_data(as_text=True)
    pinned_bar = page[page.index("data-pinned"):]
    pinned_bar = pinned_bar[:pinned_bar.index("</details>")]
    assert "Recognise migrants" in pinned_bar and author.display_name in pinned_bar
    assert "Pinned in the room." in client.get(f"{room_url}/panels/preevent").get_data(as_text=True)
    assert client.post(f"/events/{event.id}/pre-event/answers/{answer.id}/pin").status_code == 409


def test_one_answer_as_its_reader_sees_it_for_the_live_board(db, app, upcoming):
    """GET .../answers/<id>: the board's item for this reader (what static/js/preevent.js puts
    in place when the board's stream names the answer); not found for anyone who may not
    read the board."""
    event = upcoming
    p1, p2, p3 = event.test_participants[:3]  # p1 and p3 in room 1, p2 in room 2
    answer = preevent.answer(p1, event.q_room1, "Recognise skills")
    preevent.endorse(p3, answer)
    db.session.commit()
    url = f"/events/{event.id}/pre-event/answers/{answer.id}"

    def client_of(user):
        client = app.test_client()
        login(client, user)
        return client

    item = client_of(p3).get(url).get_data(as_text=True)
    assert item.lstrip().startswith(f'<li id="answer-{answer.id}"') and "Recognise skills" in item
    assert "1 endorsement" in item and 'aria-pressed="true"' in item and ">Endorsed<" in item
    own = client_of(p1).get(url).get_data(as_text=True)
    assert "Recognise skills" in own and "<button" not in own  # never one's own
    client = client_of(p2)
    assert client.get(url).status_code == 404  # another room's board
    assert client.get(f"/events/{event.id}/pre-event/answers/999999").status_code == 404
    assert app.test_client().get(url).status_code == 302  # log in first


def test_the_board_page_follows_its_stream_from_where_it_was_read(db, app, upcoming):
    event = upcoming
    room1 = event.breakout_rooms[0]
    preevent.answer(event.test_participants[0], event.q_room1, "First")
    db.session.commit()
    client = app.test_client()
    login(client, event.test_participants[2])
    page = client.get(f"/events/{event.id}/pre-event/boards/{room1.id}").get_data(as_text=True)
    assert f'data-stream="preevent:{room1.id}" data-seq="1"' in page
    assert "js/preevent.js" in page and "First" in page
