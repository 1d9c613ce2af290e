"""Live events of polls: what the polls service records with every change it makes.

Two kinds of streams (docs/realtime.md, *Polls*):

- the poll's place, "consultation:<id>" or "room:<id>", carries `poll.opened`, `poll.closed`
  and `poll.updated` with the poll's facts and no figures: every reader of the place gets
  them, whether or not they may see the results yet;
- the poll's results, "poll:<id>" (`poll.results`: the figures, for those who may see the
  results, permissions.can_see_results) and "poll:<id>:breakdown" (`poll.breakdown`: the
  figures by country and organisation type, for those who may see them,
  permissions.can_see_breakdown). These are snapshot streams (events.SNAPSHOT_STREAMS): each
  message is the whole of the results, stored, and superseding every earlier message of its
  stream; a later-numbered message never counts fewer of the ballots than an earlier one.

Who publishes them: a vote counts nothing in its transaction (counting 5,000 ranked ballots
takes a third of a second, with the stream locked); it asks for `publish_results` on the job
queue (forum/jobs.py), debounced per poll (POLL_RESULTS_DEBOUNCE_SECONDS), which counts the
ballots outside any lock and then records both messages. Opening, closing and publishing the
breakdown record them in their own transaction (`record_poll_results`): the final results go
out with the close.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select

from forum.extensions import db
from forum.models.base import utcnow
from forum.models.polls import Poll, PollStatus
from forum.models.streams import Stream, StreamEvent
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
    """The poll's results must go out now (it opened, closed, its breakdown was published): a
    new `poll.results` and `poll.breakdown` message, counted as the transaction commits (after
    both streams' numbers are taken); once per transaction. Votes do not call this: they ask
    for `publish_results` on the job queue (`request_results`). Returns the `poll.results`
    event (its `seq` is known once committed)."""
    db.session.flush()
    return _record(poll.id)


def request_results(poll: Poll) -> None:
    """A ballot was cast or changed: once the transaction commits, `publish_results` runs on
    the job queue, at most once per POLL_RESULTS_DEBOUNCE_SECONDS for the poll, reading every
    ballot committed before it starts (forum/jobs.py). The vote's transaction counts nothing."""
    from forum import jobs

    jobs.enqueue(publish_results, poll.id, key=f"poll-results:{poll.id}",
                 debounce_seconds=current_app.config["POLL_RESULTS_DEBOUNCE_SECONDS"])


def publish_results(poll_id: int) -> None:
    """The job: read the ballots once and count them (results and breakdowns) outside any lock,
    then record both messages with those figures in this job's own transaction (numbered,
    stored and broadcast after commit like every message).

    Counted before the streams' numbers are taken, a message could be numbered after one that
    counted later ballots (two runs overlapping, or a close publishing meanwhile) and so show
    older figures as the latest. Each message is therefore checked once numbered: if its
    stream gained a message since this run looked at it (before reading the ballots), the
    message is counted anew there, under the stream's lock, as `record_poll_results` does
    (rare: a run that outlasts the debounce, or a close while it counts)."""
    from forum.services.polls import ballots, poll_breakdowns, poll_results

    streams = (results_stream(poll_id), breakdown_stream(poll_id))
    seen = dict(db.session.execute(select(Stream.key, Stream.last_seq).where(Stream.key.in_(streams))).all())
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.status is PollStatus.DRAFT:
        return
    counted = ballots(poll)
    status = poll.phase(utcnow()).value
    computed = {
        streams[0]: {"poll_id": poll_id, "status": status, "results": poll_results(poll, counted)},
        streams[1]: {"poll_id": poll_id, "status": status, "breakdowns": poll_breakdowns(poll, counted)},
    }
    # End the reading transaction before writing: SQLite would refuse this one's writes if
    # another write had committed since it began (a vote meanwhile). What was published since
    # `seen` is found as the messages are numbered.
    db.session.commit()
    _record(poll_id, computed, {key: seen.get(key, 0) for key in streams})


def _record(poll_id: int, computed: dict[str, dict] | None = None, seen: dict[str, int] | None = None) -> StreamEvent:
    """Record both snapshot messages: with the `computed` data if no message of the stream was
    numbered after `seen` (what the job saw before reading), else counted as they commit."""
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

    def snapshot(stream_key: str, kind: str, count: Callable[[], dict[str, Any]]) -> StreamEvent:
        recorded: list[StreamEvent] = []

        def build() -> dict[str, Any]:
            if computed is not None and seen is not None and recorded[0].seq == seen[stream_key] + 1:
                return computed[stream_key]  # nothing was published since the job read the ballots
            return count()
        recorded.append(events.record_snapshot(stream_key, kind, build))
        return recorded[0]

    made = snapshot(results_stream(poll_id), "poll.results", results)
    snapshot(breakdown_stream(poll_id), "poll.breakdown", breakdowns)
    return made
