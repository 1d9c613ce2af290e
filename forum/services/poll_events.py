"""Live events of polls (placeholder until the live layer lands: its module replaces this
body; the polls service calls these two functions with every change it makes).

`record_poll_change(poll, kind)`: poll.opened / poll.closed / poll.updated on the place's
stream, with the poll's facts and no results. `record_poll_results(poll)`: the results
changed (here only a notice naming the poll, on the place's stream: no figures, since not
every reader of the place may see them)."""
from __future__ import annotations

from forum.models.polls import Poll
from forum.services import events


def place_stream(poll: Poll) -> str:
    if poll.room_id is not None:
        return events.room_stream(poll.room_id)
    return events.consultation_stream(poll.consultation_id)


def poll_facts(poll: Poll) -> dict:
    return {"poll_id": poll.id, "kind": poll.kind.value, "status": poll.status.value,
            "topic_id": poll.topic_id, "room_id": poll.room_id,
            "closes_at": poll.closes_at.isoformat() if poll.closes_at else None,
            "results_shown": poll.results_shown.value, "breakdown_published": poll.breakdown_published}


def record_poll_change(poll: Poll, kind: str) -> None:
    events.record_data(place_stream(poll), kind, poll_facts(poll))


def record_poll_results(poll: Poll) -> None:
    events.record_data(place_stream(poll), "poll.results", {"poll_id": poll.id})
