"""Live events of polls: what the polls service records with every change it makes.

Two kinds of streams (docs/realtime.md, *Polls*):

- the poll's place, "consultation:<id>" or "room:<id>", carries `poll.opened`, `poll.closed`
  and `poll.updated` with the poll's facts and no figures: every reader of the place gets
  them, whether or not they may see the results yet;
- the poll's results, "poll:<id>" (`poll.results`: the figures, for those who may see the
  results, permissions.can_see_results) and "poll:<id>:breakdown" (`poll.breakdown`: the
  figures by country and organisation type, for those who may see them,
  permissions.can_see_breakdown). These are snapshot streams (events.SNAPSHOT_STREAMS): each
  message is the whole of the results as the transaction that recorded it commits, built
  then, once, after the stream's number is taken (so it counts every ballot of an
  earlier-numbered message), stored, and superseding every earlier message of its stream.
"""
from __future__ import annotations

from typing import Any

from forum.extensions import db
from forum.models.base import utcnow
from forum.models.polls import Poll, PollStatus
from forum.models.streams import StreamEvent
from forum.services import events

CHANGE_KINDS = ("poll.opened", "poll.closed", "poll.updated")


def results_stream(poll: Poll | int) -> str:
    return f"poll:{poll if isinstance(poll, int) else poll.id}"


def breakdown_stream(poll: Poll | int) -> str:
    return f"{results_stream(poll)}:breakdown"


def place_stream(poll: Poll) -> str:
    if poll.room_id is not None:
        return events.room_stream(poll.room_id)
    return events.consultation_stream(poll.consultation_id)


def poll_facts(poll: Poll) -> dict[str, Any]:
    """What every reader of the poll's place may know of it: no figures, no voter."""
    return {"poll_id": poll.id, "kind": poll.kind.value, "status": poll.phase(utcnow()).value,
            "question": poll.question, "topic_id": poll.topic_id, "room_id": poll.room_id,
            "opens_at": poll.opens_at.isoformat() if poll.opens_at else None,
            "closes_at": poll.closes_at.isoformat() if poll.closes_at else None,
            "results_shown": poll.results_shown.value, "votes_changeable": poll.votes_changeable,
            "breakdown_published": poll.breakdown_published}


def record_poll_change(poll: Poll, kind: str) -> None:
    """Tell the readers of the poll's place that it opened, closed or changed (call after
    the change, before commit). A draft is its organisers' only: nothing is said of it.
    Results are recorded anew too: a poll that closes, or whose breakdown is published,
    shows its figures to readers who could not see them, and they subscribe then."""
    if kind not in CHANGE_KINDS:
        raise ValueError(f"not a poll change: {kind}")
    if poll.status is PollStatus.DRAFT:
        return
    db.session.flush()
    events.record_data(place_stream(poll), kind, poll_facts(poll))
    record_poll_results(poll)


def record_poll_results(poll: Poll) -> StreamEvent:
    """The poll's results changed (a ballot cast or changed, ...): a new `poll.results` and
    `poll.breakdown` message, built as the transaction commits; once per transaction. Both
    count the same ballots, read once (after both streams' numbers are taken). Returns the
    `poll.results` event (its `seq` is known once committed)."""
    db.session.flush()
    poll_id = poll.id
    read: dict[str, Any] = {}

    def counted() -> tuple[Poll, list]:
        from forum.services.polls import ballots

        if not read:
            # Read anew: this session's copy may predate a change that another transaction
            # committed while this one waited for the stream's number.
            current = db.session.get(Poll, poll_id, populate_existing=True)
            read["poll"], read["ballots"] = current, ballots(current)
        return read["poll"], read["ballots"]

    def results() -> dict[str, Any]:
        from forum.services.polls import poll_results

        current, ballots = counted()
        return {"poll_id": poll_id, "status": current.phase(utcnow()).value,
                "results": poll_results(current, ballots)}

    def breakdowns() -> dict[str, Any]:
        from forum.services.polls import poll_breakdowns

        current, ballots = counted()
        return {"poll_id": poll_id, "status": current.phase(utcnow()).value,
                "breakdowns": poll_breakdowns(current, ballots)}

    recorded = events.record_snapshot(results_stream(poll_id), "poll.results", results)
    events.record_snapshot(breakdown_stream(poll_id), "poll.breakdown", breakdowns)
    return recorded
