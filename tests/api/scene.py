"""The event the API's event tests share (`live`), and how they read the API's answers.
tests/api/conftest.py makes the fixture available."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from forum.models import EventMember
from forum.models.events import MemberRole
from forum.services import posts as post_service


def error(response, status: int, code: str | None = None) -> dict:
    """The refusal's {"code", "message", "fields"}, after checking its status and shape."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def live(db, client, make_event, make_user, bearer):
    """A published event, every room open: Amina (participant of room 1), Bruno (of room 2),
    Mo (co-moderator of room 1), Olga (observer), Xavier (signed in, not registered) and the
    organiser; one message of Amina's in room 1. `live.call(who, method, path, **kwargs)` sends
    an API request with that person's write token ("visitor": none; `scope="read"` for a
    read-only token); `live.url(...)` builds a path under /api/v1."""
    event = make_event(rooms=2, moderators=1, participants=2)
    amina, bruno = event.test_participants
    room1, room2 = event.breakout_rooms
    olga, xavier = make_user(display_name="Olga"), make_user(display_name="Xavier")
    db.session.add(EventMember(event_id=event.id, user_id=olga.id, role=MemberRole.OBSERVER))
    db.session.flush()
    people = {"amina": amina, "bruno": bruno, "mo": event.test_moderators[1][0], "olga": olga,
              "xavier": xavier, "organiser": event.owner}
    message = post_service.post_in_room(amina, room1, body="Housing comes first")
    db.session.commit()
    tokens: dict[tuple[str, str], dict] = {}

    def headers(who: str, scope: str = "write") -> dict:
        if who == "visitor":
            return {}
        if (who, scope) not in tokens:
            tokens[(who, scope)] = bearer(people[who], scope)
            db.session.commit()
        return tokens[(who, scope)]

    def call(who: str, method: str, path: str, scope: str = "write", **kwargs):
        return client.open(f"/api/v1{path}", method=method, headers=headers(who, scope), **kwargs)

    return SimpleNamespace(event=event, plenary=event.plenary, room1=room1, room2=room2, message=message,
                           call=call, headers=headers, **people)
