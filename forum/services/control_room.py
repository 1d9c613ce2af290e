"""The organisers' control room: every room of an event on one live page, with the figures
that say where to look (docs/events.md, *The control room*).

`figures(event)` reads them with a fixed number of queries, whatever the number of rooms:
one for the rooms (and one for their moderators), one for the messages of the last five
minutes and those awaiting approval, one each for raised hands, open reports and people
placed, and the three of the speaking shares (`rooms.speaking_shares`, one pass for all
rooms). People present come from presence (`forum/presence.py`), not the database.

Live: the snapshot stream "event:<id>:control" (events.SNAPSHOT_STREAMS), readable by the
event's organisers (permissions.can_run_control_room). Every write that records an event on
one of the event's room streams or moderators' streams asks, in its transaction, for
`publish_snapshot` on the job queue (forum/jobs.py), debounced per event
(CONTROL_ROOM_DEBOUNCE_SECONDS); so do people joining and leaving a room's stream
(forum/realtime/handlers.py). The job does nothing while nobody watches the control stream.
While a room had messages in the last five minutes, the job asks for itself again
CONTROL_ROOM_DECAY_SECONDS later, so that the count falls when a room goes quiet. Figures
the same as the latest message's are not recorded again.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from forum import jobs, permissions
from forum.extensions import db
from forum.models import Event, EventMember, Flag, HandRaise, Post, PostStatus, Room, StreamEvent
from forum.models.base import utcnow
from forum.models.events import RoomPhase
from forum.presence import presence
from forum.services import events, rooms

KIND = "control.figures"
RECENT_MINUTES = 5
LONG_QUEUE = 3  # raised hands (or messages awaiting approval) from which a room needs attention

# Why a room needs the organisers' attention (codes; the page names them).
ATTENTION = ("flags", "queue", "approval", "quiet")


def control_stream(event: Event | int) -> str:
    return f"event:{event if isinstance(event, int) else event.id}:control"


@dataclass
class RoomFigures:
    room_id: int
    phase: str
    wrap_up_ends_at: str | None  # ISO, UTC: the countdown's end
    present: int                 # signed-in people on the room's page now
    placed: int                  # people placed in the room (the plenary: everyone registered)
    recent: int                  # messages in the last RECENT_MINUTES (not the back-channel)
    hands: int                   # raised hands waiting
    pending: int                 # messages awaiting approval
    flags: int                   # messages with open reports
    balance: float | None        # the speaking share's Gini (0 = even); None before anyone spoke
    attention: list[str] = field(default_factory=list)  # codes of ATTENTION


def _grouped(statement) -> dict[int, Any]:
    return {row[0]: row[1] if len(row) == 2 else row[1:] for row in db.session.execute(statement)}


def figures(event: Event, now: datetime | None = None) -> list[RoomFigures]:
    """Every room of the event, in order, with its figures (no permission check: the
    caller's)."""
    now = now or utcnow()
    event_rooms = list(db.session.scalars(
        select(Room).options(selectinload(Room.moderators)).where(Room.event_id == event.id)
        .order_by(Room.position)))
    ids = [room.id for room in event_rooms]
    since = now - timedelta(minutes=RECENT_MINUTES)
    posts = _grouped(
        select(Post.room_id,
               func.sum(case((Post.created_at >= since, 1), else_=0)),
               func.sum(case((Post.status == PostStatus.PENDING, 1), else_=0)))
        .where(Post.room_id.in_(ids), Post.backchannel.is_(False), Post.announcement.is_(False),
               Post.deleted_at.is_(None))
        .group_by(Post.room_id))
    hands = _grouped(select(HandRaise.room_id, func.count(HandRaise.id))
                     .where(HandRaise.room_id.in_(ids), HandRaise.lowered_at.is_(None))
                     .group_by(HandRaise.room_id))
    flags = _grouped(select(Post.room_id, func.count(func.distinct(Flag.post_id)))
                     .join(Post, Post.id == Flag.post_id)
                     .where(Post.room_id.in_(ids), Flag.resolved_at.is_(None), Post.deleted_at.is_(None))
                     .group_by(Post.room_id))
    placed = _grouped(select(EventMember.room_id, func.count(EventMember.id))
                      .where(EventMember.event_id == event.id).group_by(EventMember.room_id))
    shares = rooms.speaking_shares(event_rooms)
    present = presence.people_counts([events.room_stream(room) for room in event_rooms])
    answer = []
    for room in event_rooms:
        recent, pending = (int(n or 0) for n in posts.get(room.id, (0, 0)))
        share = shares[room.id]
        figure = RoomFigures(
            room_id=room.id, phase="closed" if permissions.room_closed(room) else room.phase.value,
            wrap_up_ends_at=room.wrap_up_ends_at.isoformat() if room.wrap_up_ends_at else None,
            present=present.get(events.room_stream(room), 0),
            placed=sum(placed.values()) if room.is_plenary else placed.get(room.id, 0),
            recent=recent, hands=hands.get(room.id, 0), pending=pending, flags=flags.get(room.id, 0),
            balance=round(share.gini, 2) if share.words else None)
        figure.attention = _attention(figure)
        answer.append(figure)
    return answer


def _attention(figure: RoomFigures) -> list[str]:
    """Why the room needs a look: open reports, a long queue of hands or of messages to
    approve, or people there and nothing said for RECENT_MINUTES while it is open."""
    reasons = []
    if figure.flags:
        reasons.append("flags")
    if figure.hands >= LONG_QUEUE:
        reasons.append("queue")
    if figure.pending >= LONG_QUEUE:
        reasons.append("approval")
    if figure.phase == RoomPhase.OPEN.value and figure.present and not figure.recent:
        reasons.append("quiet")
    return reasons


def snapshot_data(event_id: int) -> dict[str, Any] | None:
    """The control stream's message: every room's figures, as numbers and codes (the page
    words them in its reader's language)."""
    event = db.session.get(Event, event_id)
    if event is None:
        return None
    now = utcnow()
    return {"event_id": event_id, "at": now.isoformat(timespec="seconds"),
            "rooms": [asdict(figure) for figure in figures(event, now)]}


# --- Publishing ---------------------------------------------------------------------------

def request_snapshot(event_id: int, outside_transaction: bool = False) -> None:
    """Once the current transaction commits (or at once, `outside_transaction`), publish the
    event's figures on the job queue, at most once per CONTROL_ROOM_DEBOUNCE_SECONDS."""
    jobs.enqueue(publish_snapshot, event_id, key=f"control:{event_id}",
                 debounce_seconds=current_app.config["CONTROL_ROOM_DEBOUNCE_SECONDS"],
                 outside_transaction=outside_transaction)


def room_changed(room_id: int) -> None:
    """Something was recorded on a room's stream (events.watch_rooms): the room is in this
    session already (the write loaded it), so finding its event costs no query."""
    room = db.session.get(Room, room_id)
    if room is not None:
        request_snapshot(room.event_id)


events.watch_rooms(room_changed)


def watched(event_id: int) -> bool:
    return bool(presence.connections_in(control_stream(event_id)))


def publish_snapshot(event_id: int) -> None:
    """The job: if anyone watches the control room, read the figures (outside any lock) and
    record them on the control stream in a transaction of their own. Should another run
    have numbered a message meanwhile, the figures are read anew as this one is numbered,
    so that a later number never carries older figures (as poll_events.publish_results)."""
    stream = control_stream(event_id)
    if not watched(event_id):
        return
    seen = events.latest_seq(stream)
    data = snapshot_data(event_id)
    if data is None:
        return
    if data["rooms"] == _latest_rooms(stream):
        _decay_later(event_id, data)
        return  # nothing changed (a decay run, someone who came and went): nothing to write
    db.session.commit()  # end the reading transaction before writing (SQLite)
    recorded = []

    def build() -> dict[str, Any]:
        if recorded[0].seq == seen + 1:
            return data
        return snapshot_data(event_id) or data
    recorded.append(events.record_snapshot(stream, KIND, build))
    _decay_later(event_id, data)


def _latest_rooms(stream: str) -> list[dict] | None:
    """The rooms' figures of the stream's latest stored message (None if there is none)."""
    stored = db.session.scalar(select(StreamEvent.payload).where(StreamEvent.stream_key == stream)
                               .order_by(StreamEvent.seq.desc()).limit(1))
    return (stored or {}).get("data", {}).get("rooms")


def _decay_later(event_id: int, data: dict[str, Any]) -> None:
    """While a room had messages in the last five minutes, run again later so that the count
    falls without activity. Its own key: a run waiting here must not hold back the next
    change's run."""
    decay = current_app.config["CONTROL_ROOM_DECAY_SECONDS"]
    if decay > 0 and any(room["recent"] for room in data["rooms"]):
        jobs.enqueue(publish_snapshot, event_id, key=f"control-decay:{event_id}", debounce_seconds=decay)
