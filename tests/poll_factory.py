"""`make_poll`: a poll through the polls service (import the fixture into a test module)."""
from __future__ import annotations

import itertools

import pytest

from forum.models.base import utcnow
from forum.services import polls

KIND_SETTINGS = {
    "single": {},
    "multiple": {"max_choices": 2},
    "score": {"scale_min": 1, "scale_max": 5, "scale_labels": {"1": "Not at all", "5": "Fully"}},
    "ranked": {},
    "dots": {"points": 10},
}


@pytest.fixture
def make_poll(db, make_consultation):
    """make_poll(place=None, kind="single", status="open", options=3, by=None, **settings) -> Poll.

    `place` is a consultation (default: a new open one) or a room; `by` the organiser or
    moderator who sets it up (default: the consultation's owner, or the room's event's owner).
    status "closed" closes it through the service; "expired" leaves it open with closes_at
    past (closed by its time)."""
    counter = itertools.count(1)

    def _make_poll(place=None, *, kind: str = "single", status: str = "open", options: int = 3, by=None,
                   topic=None, **settings):
        from forum.models import Room

        n = next(counter)
        place = place or make_consultation()
        by = by or (place.event.owner if isinstance(place, Room) else place.owner)
        fields = {"kind": kind, "question": f"Question {n}?", **KIND_SETTINGS[kind], **settings}
        labels = [(f"Option {i}", f"About option {i}") for i in range(1, options + 1)]
        poll = polls.create_poll(by, place, fields, labels, topic=topic)
        if status in ("open", "closed", "expired"):
            polls.open_poll(by, poll)
        if status == "closed":
            polls.close_poll(by, poll)
        if status == "expired":
            poll.closes_at = utcnow()
        db.session.flush()
        return poll

    return _make_poll
