"""The control room over HTTP (GET /events/<e>/control): who may open it, what it shows without
JavaScript, and that its forms (open/close a room, broadcast, recall, move a person) come
back to it. Who may open it, role by role: tests/test_roles.py ("watch the control room")."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.models import EventMember, Post, Room
from forum.models.events import EventStatus, RoomPhase
from forum.services import posts, rooms
from tests.factories import login
from tests.web.page import parse


@pytest.fixture
def event(db, make_event):
    event = make_event(rooms=2, moderators=1, participants=4)
    room1 = event.breakout_rooms[0]
    posts.post_in_room(event.test_participants[0], room1, body="Hello everyone")
    posts.post_in_room(event.test_participants[2], room1, body="Hello")
    rooms.raise_hand(event.test_participants[2], room1)
    db.session.commit()
    return event


def control_path(event) -> str:
    return f"/events/{event.id}/control"


def organiser_client(app, event):
    client = app.test_client()
    login(client, event.owner)
    return client


def test_the_organiser_reads_every_room_with_its_figures(app, event):
    response = organiser_client(app, event).get(control_path(event))
    assert response.status_code == 200
    page = parse(response)
    rows = page.find_all("tr", **{"data-room-row": True})
    assert [row.find("a").text() for row in rows] == [room.title for room in event.rooms]
    room1 = event.breakout_rooms[0]
    row = next(r for r in rows if r.get("data-room-row") == str(room1.id))

    def cell(name):
        return row.one(**{"data-cell": name}).text()
    assert (cell("recent"), cell("hands"), cell("pending"), cell("flags")) == ("2", "1", "0", "0")
    assert (cell("present"), cell("placed")) == ("0", "2")
    assert cell("phase") == "Open"
    assert row.find("a").get("href") == f"/events/{event.id}/rooms/{room1.id}"
    # The live part: the stream and the number the page was rendered with.
    root = page.one(**{"data-control": True})
    assert root.get("data-stream") == f"event:{event.id}:control"
    assert root.get("data-seq") == "0"


def test_the_page_links_from_the_event_and_the_plenary(app, event):
    client = organiser_client(app, event)
    for path in (f"/events/{event.id}", f"/events/{event.id}/rooms/{event.plenary.id}"):
        links = [a.get("href") for a in parse(client.get(path)).find_all("a")]
        assert control_path(event) in links, path


@pytest.mark.parametrize("who", ["moderator", "participant", "stranger"])
def test_others_may_not_open_it(app, event, make_user, who):
    user = {"moderator": event.test_moderators[1][0], "participant": event.test_participants[0],
            "stranger": make_user("organiser")}[who]
    client = app.test_client()
    login(client, user)
    assert client.get(control_path(event)).status_code == 403
    links = [a.get("href") for a in parse(client.get(f"/events/{event.id}")).find_all("a")]
    assert control_path(event) not in links


def test_a_visitor_is_sent_to_log_in_and_a_draft_is_not_found(app, db, event, make_user):
    assert app.test_client().get(control_path(event)).headers["Location"].startswith("/login")
    event.status = EventStatus.DRAFT
    db.session.commit()
    client = app.test_client()
    login(client, make_user("organiser"))
    assert client.get(control_path(event)).status_code == 404
    assert client.get("/events/999999/control").status_code == 404


def test_closing_and_opening_a_room_comes_back_to_the_control_room(app, db, event):
    client = organiser_client(app, event)
    room2 = event.breakout_rooms[1]
    page = parse(client.get(control_path(event)))
    form = page.one("tr", **{"data-room-row": str(room2.id)}).one("form")
    assert form.get("action") == f"/events/{event.id}/rooms/{room2.id}/phase"
    assert form.control("next").get("value") == control_path(event)

    response = client.post(form.get("action"), data={"phase": "closed", "next": control_path(event)})
    assert response.status_code == 302 and response.headers["Location"] == control_path(event)
    db.session.expire_all()
    assert db.session.get(Room, room2.id).phase is RoomPhase.CLOSED
    row = parse(client.get(control_path(event))).one("tr", **{"data-room-row": str(room2.id)})
    assert row.one(**{"data-cell": "phase"}).text() == "Closed"
    buttons = {b.get("value"): b for b in row.find_all("button")}
    assert "hidden" in buttons["closed"].attrs and "hidden" not in buttons["open"].attrs

    client.post(form.get("action"), data={"phase": "open", "next": control_path(event)})
    db.session.expire_all()
    assert db.session.get(Room, room2.id).phase is RoomPhase.OPEN


def test_broadcast_and_recall_come_back_to_the_control_room(app, db, event):
    client = organiser_client(app, event)
    response = client.post(f"/events/{event.id}/broadcast", data={"body": "Five minutes left",
                                                                   "next": control_path(event)})
    assert response.headers["Location"] == control_path(event)
    assert db.session.scalar(select(Post.id).where(Post.announcement.is_(True))) is not None
    response = client.post(f"/events/{event.id}/recall", data={"message": "", "next": control_path(event)})
    assert response.headers["Location"] == control_path(event)
    # Without `next`, as before: to the plenary.
    response = client.post(f"/events/{event.id}/recall", data={"message": ""})
    assert response.headers["Location"] == f"/events/{event.id}/rooms/{event.plenary.id}"


def test_moving_a_person_chosen_in_the_form(app, db, event):
    client = organiser_client(app, event)
    person = event.test_participants[0]
    member_id = db.session.scalar(select(EventMember.id).where(EventMember.user_id == person.id))
    room2 = event.breakout_rooms[1]
    page = parse(client.get(control_path(event)))
    options = [o.get("value") for o in page.by_id("move-member").find_all("option")]
    assert str(member_id) in options
    response = client.post(f"/events/{event.id}/people/move",
                           data={"member_id": str(member_id), "room_id": str(room2.id), "next": control_path(event)})
    assert response.status_code == 302 and response.headers["Location"] == control_path(event)
    db.session.expire_all()
    assert db.session.get(EventMember, member_id).room_id == room2.id


@pytest.mark.parametrize("member_id", ["", "abc", "99999999999", "0"])
def test_moving_nobody_or_someone_unknown_is_refused(app, db, event, member_id):
    response = organiser_client(app, event).post(
        f"/events/{event.id}/people/move", data={"member_id": member_id, "room_id": ""})
    assert response.status_code in (400, 404)
