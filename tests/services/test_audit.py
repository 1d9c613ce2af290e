"""The moderation log: each line dated when its action happened, and read back filtered."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from forum.models import ModerationAction
from forum.models.base import clock_at, utcnow
from forum.services import audit
from forum.services import rooms as room_service

MOMENT = datetime(2030, 3, 1, 9, 30, tzinfo=timezone.utc)


def test_a_line_carries_the_moment_of_its_action_even_if_written_later(db, make_event):
    event = make_event()
    with clock_at(MOMENT):
        entry = audit.log(event.owner, "event.recall", event=event, message="")
    db.session.flush()  # after the action, at another time
    assert entry.created_at == MOMENT


def test_services_read_the_simulated_clock(db, make_event):
    event = make_event()
    room = event.breakout_rooms[0]
    with clock_at(MOMENT):
        room_service.set_phase(event.owner, room, "wrap_up", 5)
        db.session.flush()
    assert room.wrap_up_ends_at == MOMENT + timedelta(minutes=5)
    entry = db.session.scalars(select(ModerationAction).where(ModerationAction.room_id == room.id)).one()
    assert entry.created_at == MOMENT
    assert abs(utcnow() - datetime.now(timezone.utc)) < timedelta(seconds=5)  # and only inside


def test_the_clock_wants_an_aware_time():
    with pytest.raises(ValueError):
        with clock_at(datetime(2030, 3, 1, 9, 30)):
            pass
