"""Live events: recorded in the write's own transaction, broadcast only after it commits.

Streams: "consultation:<id>" (a consultation's posts), "room:<id>" (an event room's
messages and state), "room:<id>:moderators" (its back-channel and queues, for its
co-moderators and the organisers), a poll's results, "poll:<id>" and
"poll:<id>:breakdown" (forum/services/poll_events.py), and a room's pre-event board,
"preevent:<room id>" (forum/services/preevent.py).

A service that changes something readers watch calls `record(...)`. Just before the
transaction commits, each event recorded in it is numbered in its stream (consecutive, from
the database: the number is taken as late as possible, as it locks the stream until commit),
its message is built once (by the real-time layer: forum/realtime/messages.py), and both
are stored with the change;
once the transaction commits, that message is sent to the stream's Socket.IO room. A
rolled-back transaction sends nothing. Clients that missed events ask for them by number
(`catch_up`): they get the stored messages, a page at a time, never rendered again; past
CATCH_UP_RELOAD_AFTER missed events they are told to reload the page instead.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import case, exists, func, null, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, aliased

from forum import permissions
from forum.extensions import db, socketio
from forum.models import Consultation, Post, Room, Stream, StreamEvent
from forum.presence import presence
from forum.services import held
from forum.services.queries import dialect_insert

PENDING = "plenary.pending_events"


# Every stream's key starts with one of these.
STREAM_PREFIXES = ("consultation:", "room:", "poll:", "event:", "preevent:")

# Streams whose every message is a snapshot of one thing's whole state (a poll's results):
# each supersedes all the earlier ones. Catch-up sends the latest alone, however many were
# missed (never `reload`), their stored messages are erased as the next is stored, and
# clients apply a message whose number is above the last they applied, gaps and all.
SNAPSHOT_STREAMS = ("poll:", "event:")  # "event:<id>:control": forum/services/control_room.py


def is_snapshot_stream(stream_key: str) -> bool:
    return stream_key.startswith(SNAPSHOT_STREAMS)


def consultation_stream(consultation: Consultation | int) -> str:
    consultation_id = consultation if isinstance(consultation, int) else consultation.id
    return f"consultation:{consultation_id}"


def room_stream(room: Room | int) -> str:
    return f"room:{room if isinstance(room, int) else room.id}"


def moderators_stream(room: Room | int) -> str:
    return f"{room_stream(room)}:moderators"


def preevent_stream(room: Room | int) -> str:
    """A room's pre-event board (the plenary's: the event-wide questions): its answers and
    endorsements, for whoever may read the board (docs/pre-event.md)."""
    return f"preevent:{room if isinstance(room, int) else room.id}"


def _take_seqs(stream_key: str, how_many: int) -> int:
    """Take the next `how_many` numbers of a stream; returns the last of them. From here the
    stream's row stays locked until commit (PostgreSQL), or the database is written by one
    transaction at a time (SQLite), so numbers are committed in order and a reader never sees
    6 while 5 is still to come."""
    statement = dialect_insert(Stream).values(key=stream_key, last_seq=how_many)
    statement = statement.on_conflict_do_update(
        index_elements=[Stream.key], set_={"last_seq": Stream.last_seq + how_many}
    ).returning(Stream.last_seq)
    return db.session.execute(statement).scalar_one()


def _number(stream_events: list[StreamEvent]) -> None:
    """Number events, in the order they were recorded within each stream. One statement per
    stream, the streams always taken in the same (sorted) order, so that two transactions
    writing to the same two streams never each hold the one the other waits for."""
    counts = Counter(e.stream_key for e in stream_events)
    following = {}
    for stream_key in sorted(counts):
        following[stream_key] = _take_seqs(stream_key, counts[stream_key]) - counts[stream_key] + 1
    for stream_event in stream_events:
        stream_event.seq = following[stream_event.stream_key]
        following[stream_event.stream_key] += 1


def current_stream(post: Post) -> str:
    """The stream whose readers may see the post now. Until a moderator approves it, a post
    in a pre-moderated room is the moderators' only."""
    return post.stream_key if post.is_published else moderators_stream(post.room_id)


def record(kind: str, post: Post, stream_key: str | None = None) -> StreamEvent:
    """Record that `post` was created, updated, deleted, endorsed, hidden, ... for the live
    readers of its stream (or of `stream_key`, e.g. the stream a moved post has left).

    A change that alters how the post reads where it is quoted also records `post.updated`
    for each reply quoting it: their messages are built anew (with the quote as it now reads)
    and their earlier, stored messages are superseded and erased like the post's own."""
    stream_event = _add(StreamEvent(stream_key=stream_key or current_stream(post), kind=kind, post_id=post.id))
    if kind in QUOTE_CHANGES:
        for reply in db.session.scalars(select(Post).where(Post.quoted_post_id == post.id)):
            _add(StreamEvent(stream_key=current_stream(reply), kind="post.updated", post_id=reply.id))
    return stream_event


def record_data(stream_key: str, kind: str, data: dict[str, Any]) -> StreamEvent:
    """Record an event that is not about one post (a room's phase, the hand queue, ...)."""
    return _add(StreamEvent(stream_key=stream_key, kind=kind, data=data))


def erase_data_messages(stream_keys, kind_prefix: str, matches: Callable[[dict | None], bool]) -> None:
    """Replace the stored messages of the data events (kind starting with `kind_prefix`) that
    `matches` (given the event's data), among those catch-up may still send on these streams
    (the last CATCH_UP_RELOAD_AFTER of each), by "superseded": clients count their number and
    apply nothing, and their text stays in no stored message (a dismissed plenary question's).
    Events recorded in this transaction are not stored yet and are left alone."""
    window = current_app.config["CATCH_UP_RELOAD_AFTER"]
    for stream_key in stream_keys:
        since = latest_seq(stream_key) - window
        rows = db.session.execute(select(StreamEvent.id, StreamEvent.seq, StreamEvent.data).where(
            StreamEvent.stream_key == stream_key, StreamEvent.seq > since, StreamEvent.post_id.is_(None),
            StreamEvent.kind.startswith(kind_prefix, autoescape=True))).all()
        for row in rows:
            if matches(row.data):
                db.session.execute(update(StreamEvent).where(StreamEvent.id == row.id).values(
                    data=null(), payload={"stream": stream_key, "seq": row.seq, "type": "superseded"})
                    .execution_options(synchronize_session=False))


def record_snapshot(stream_key: str, kind: str, build: Callable[[], dict[str, Any]]) -> StreamEvent:
    """Record the new state of something on its snapshot stream (SNAPSHOT_STREAMS): its
    message's data is `build()`, called once as the transaction commits, after the stream's
    number is taken (so it reads every earlier-numbered change). Once per stream and
    transaction: a second call returns the event already recorded."""
    assert is_snapshot_stream(stream_key), stream_key
    for pending in db.session.info.get(PENDING, []):
        if isinstance(pending, StreamEvent) and pending.stream_key == stream_key:
            return pending
    stream_event = StreamEvent(stream_key=stream_key, kind=kind)
    stream_event.build_data = build  # not a column: used by the message's builder at commit, then dropped
    return _add(stream_event)


def _add(stream_event: StreamEvent) -> StreamEvent:
    # Numbered, stored and its message built just before commit (`_store_payloads`): its
    # `seq` is None until then, and it is in the database only from then on.
    db.session.info.setdefault(PENDING, []).append(stream_event)
    if _room_watchers and stream_event.stream_key.startswith("room:"):
        _room_changed(stream_event.stream_key)
    return stream_event


# --- Who else follows the rooms' streams ---------------------------------------------------
# The organisers' control room (forum/services/control_room.py, which registers itself with
# `watch_rooms`) is told that something was recorded on a room's stream or its moderators'
# stream: no query here, the watcher decides what it costs (the control room's asks the job
# queue, which takes one request per transaction and key).
_room_watchers: list[Callable[[int], None]] = []


def watch_rooms(callback: Callable[[int], None]) -> None:
    """Call `callback(room_id)` in the transaction of every write that records an event on a
    room's stream or its moderators' stream."""
    if callback not in _room_watchers:
        _room_watchers.append(callback)


def _room_changed(stream_key: str) -> None:
    room_id = int(stream_key.split(":")[1])
    for callback in _room_watchers:
        callback(room_id)


def room_state(room: Room) -> dict[str, Any]:
    """What every reader of a room shows about it: phase, countdown, lock and rules. The
    countdown is an instant (UTC), so every browser counts to the same moment."""
    return {
        "room_id": room.id, "phase": room.phase.value,
        "wrap_up_ends_at": room.wrap_up_ends_at.isoformat() if room.wrap_up_ends_at else None,
        "locked": room.locked, "slow_mode_seconds": room.slow_mode_seconds,
        "premoderated": room.premoderated, "posting": sorted(permissions.posting_roles(room)),
    }


def announce_room_state(room: Room) -> StreamEvent:
    """Tell the room's readers its state changed (call after changing it, before commit)."""
    db.session.flush()
    return record_data(room_stream(room), "room.state", room_state(room))


def notify_user_after_commit(user_id: int, message: dict[str, Any]) -> None:
    """Once committed, tell one account on every open socket (e.g. why their post was
    hidden). Not numbered: what it says is also on the page for whoever reloads it."""
    def notify() -> None:
        for sid in presence.connections(user_id):
            socketio.emit("notice", message, to=sid)
    on_commit(notify)


def on_commit(callback) -> None:
    """Run `callback()` once the current transaction has committed (never on rollback)."""
    db.session.info.setdefault(PENDING, []).append(callback)


def created_seq(post: Post | int) -> int | None:
    """The number of the event that announced this post: known once its transaction has
    committed (events are numbered at commit), None before."""
    post_id = post if isinstance(post, int) else post.id
    return db.session.scalar(select(StreamEvent.seq).where(StreamEvent.post_id == post_id,
                                                           StreamEvent.kind == "post.created"))


def reauthorise_stream_after_commit(stream_key: str) -> None:
    """Who may read a stream has narrowed (a consultation became members-only): once the
    change is committed, empty its room and ask every connection that was in it to join
    again, which checks it anew. A consultation's or a room's stream takes the results
    streams of its polls with it (`poll_streams_of`): who may see them follows who may read
    the place; and a room's stream its pre-event board's, read by whoever may read the room."""
    _reauthorise_after_commit(stream_key)
    for poll_stream in poll_streams_of(stream_key):
        _reauthorise_after_commit(poll_stream)
    kind, _sep, room_id = stream_key.partition(":")
    if kind == "room" and room_id.isdigit():
        _reauthorise_after_commit(preevent_stream(int(room_id)))


def poll_streams_of(stream_key: str) -> list[str]:
    """The results and breakdown streams ("poll:<id>", "poll:<id>:breakdown") of the polls of
    the place that "consultation:<id>" or "room:<id>" names (none for other streams)."""
    from forum.models.polls import Poll

    parts = stream_key.split(":")
    if len(parts) != 2 or parts[0] not in ("consultation", "room"):
        return []
    column = Poll.consultation_id if parts[0] == "consultation" else Poll.room_id
    poll_ids = db.session.scalars(select(Poll.id).where(column == int(parts[1])).order_by(Poll.id))
    return [key for poll_id in poll_ids for key in (f"poll:{poll_id}", f"poll:{poll_id}:breakdown")]


def _reauthorise_after_commit(stream_key: str) -> None:
    def reauthorise() -> None:
        connections = presence.connections_in(stream_key)
        socketio.close_room(stream_key)
        for sid in connections:
            presence.remove(stream_key, sid)
            socketio.emit("rejoin", {"stream": stream_key}, to=sid)
    on_commit(reauthorise)


def disconnect_user_after_commit(user_id: int) -> None:
    """Once the change is committed, close every open socket of an account, in whichever
    server process holds it (the message queue carries the request)."""
    def disconnect() -> None:
        for sid in presence.connections(user_id):
            socketio.server.disconnect(sid, namespace="/")
            presence.remove_connection(user_id, sid)
    on_commit(disconnect)


def latest_seq(stream_key: str) -> int:
    return db.session.scalar(select(Stream.last_seq).where(Stream.key == stream_key)) or 0


@dataclass
class CatchUp:
    """One page of what a client missed: the stored messages, oldest first; whether more
    follow (ask again from the last one); or `reload`: too much was missed to replay, the
    page itself is the cheaper way to catch up."""
    events: list[dict] = field(default_factory=list)
    more: bool = False
    reload: bool = False


def catch_up(stream_key: str, last_seq: int) -> CatchUp:
    """What a client that applied `last_seq` has missed: one page (CATCH_UP_PAGE_SIZE
    events), or `reload` when more than CATCH_UP_RELOAD_AFTER events were missed."""
    if is_snapshot_stream(stream_key):
        return CatchUp(_latest_snapshot(stream_key, last_seq))
    config = current_app.config
    latest = latest_seq(stream_key)
    if latest - last_seq > config["CATCH_UP_RELOAD_AFTER"]:
        return CatchUp(reload=True)
    missed, more = _recent_page(stream_key, last_seq, latest, config["CATCH_UP_PAGE_SIZE"])
    if missed is None:
        return CatchUp(reload=True)
    return CatchUp(missed, more)


PAGES = "plenary.catch_up_pages"
PAGES_KEPT = 512


def _recent_page(stream_key: str, last_seq: int, latest: int, limit: int) -> tuple[list[dict] | None, bool]:
    """`events_after`, kept for CATCH_UP_CACHE_SECONDS by this process. After a restart, every
    reader of a stream joins again from nearly the same number: thousands of identical
    queries, and as many decodings of the same stored messages. What a page holds depends
    only on the events up to the stream's latest committed number (read just before, and
    part of the key: a new event makes a new key); the expiry bounds how long a change made
    without a new event (none today) could go unseen. Never change what it returns."""
    seconds = current_app.config["CATCH_UP_CACHE_SECONDS"]
    if seconds <= 0:
        return events_after(stream_key, last_seq, limit)
    pages = current_app.extensions.setdefault(PAGES, {})
    key = (stream_key, last_seq, latest, limit)
    now = time.monotonic()
    kept = pages.get(key)
    if kept is not None and now - kept[0] < seconds:
        return kept[1], kept[2]
    missed, more = events_after(stream_key, last_seq, limit)
    if len(pages) >= PAGES_KEPT:
        pages.clear()
    pages[key] = (now, missed, more)
    return missed, more


def _latest_snapshot(stream_key: str, last_seq: int) -> list[dict]:
    """A snapshot stream's latest message, if it is after `last_seq` (the earlier ones are
    superseded by it and erased)."""
    stored = db.session.execute(
        select(StreamEvent.seq, StreamEvent.payload).where(StreamEvent.stream_key == stream_key)
        .order_by(StreamEvent.seq.desc()).limit(1)).first()
    if stored is None or stored.seq <= last_seq or stored.payload is None:
        return []
    return [stored.payload]


def events_after(stream_key: str, last_seq: int, limit: int) -> tuple[list[dict] | None, bool]:
    """At most `limit` stored messages after `last_seq`, oldest first, and whether more
    remain; None instead of the list if one of them was recorded before messages were stored.

    An event about a post that a later event on the same stream shows anew is sent as
    `{"stream", "seq", "type": "superseded"}`: its stored message may hold text that was
    hidden, deleted or moved away since, and the later one carries the post as it is. An
    endorsement supersedes nothing: clients take only its figures (COUNT_ONLY_KINDS)."""
    later = aliased(StreamEvent)
    superseded = exists().where(later.stream_key == StreamEvent.stream_key, later.post_id == StreamEvent.post_id,
                                later.seq > StreamEvent.seq, later.kind.not_in(COUNT_ONLY_KINDS))
    rows = db.session.execute(
        select(StreamEvent.seq, superseded.label("superseded"),
               # A superseded message is not read at all: it is never sent.
               case((superseded, None), else_=StreamEvent.payload).label("payload"))
        .where(StreamEvent.stream_key == stream_key, StreamEvent.seq > last_seq)
        .order_by(StreamEvent.seq).limit(limit + 1)
    ).all()
    messages = []
    for row in rows[:limit]:
        if row.superseded:
            messages.append({"stream": stream_key, "seq": row.seq, "type": "superseded"})
        elif row.payload is None:
            return None, False
        else:
            messages.append(row.payload)
    return messages, len(rows) > limit


# How an event's message is built: forum/realtime/messages.py, the real-time layer's (which
# services do not import), registers it at start-up (`build_messages_with`).
_build_message: Callable[[StreamEvent], dict[str, Any]] | None = None


def build_messages_with(build: Callable[[StreamEvent], dict[str, Any]]) -> None:
    global _build_message
    _build_message = build


# Events whose message clients read only for its figures (the post's text is not replaced):
# they supersede no earlier message of the post.
COUNT_ONLY_KINDS = ("post.endorsed",)

# Changes after which a post reads differently where it is quoted: the replies quoting it are
# recorded anew (`record`), so open pages and catch-up show their quote as it now reads.
QUOTE_CHANGES = frozenset({"post.updated", "post.deleted", "post.hidden", "post.restored"})


@sa_event.listens_for(Session, "before_commit")
def _store_payloads(session: Session) -> None:
    # Events are numbered here, as late as possible: taking a number locks the stream's row
    # until commit, and the rest of the write (and, under gevent, whatever other greenlets do
    # while it waits on the database) no longer holds up every other write to the stream.
    # Numbers first, then the messages: a message is then built from a state that includes
    # every earlier-numbered event's commit (READ COMMITTED reads what committed while the
    # number was awaited), so the counts and quotes it carries are never older than those of
    # the message before it. Building messages before numbering would shorten the lock by
    # their building but could let a later number carry older counts (two posts built at once,
    # each counting itself only).
    # Messages are built while the transaction can still read and write, stored with their
    # events in it (so catch-up sends exactly what was broadcast), and sent after commit.
    if session.get_nested_transaction() is not None:
        return  # a savepoint is released (SQLAlchemy calls this hook then too): not yet
    pending = session.info.get(PENDING)
    if pending:
        session.flush()
        recorded = [e for e in pending if isinstance(e, StreamEvent)]
        _number(recorded)
        held.hold(session)  # the streams stay locked until commit: no switching to other work
        for stream_event in recorded:  # built before they are added: one INSERT each, no UPDATE
            stream_event.payload = _build_message(stream_event)
        session.add_all(recorded)
        session.flush()
        session.info[PENDING] = [e.payload if isinstance(e, StreamEvent) else e for e in pending]
        _erase_superseded(session, [e for e in pending if isinstance(e, StreamEvent) and e.post_id is not None
                                    and e.kind != "post.created" and e.kind not in COUNT_ONLY_KINDS])
        _erase_snapshots(session, [e for e in recorded if is_snapshot_stream(e.stream_key)])


def _erase_superseded(session: Session, stream_events: list[StreamEvent]) -> None:
    """Forget the stored messages that these events supersede (the same post's earlier events
    on the same stream): catch-up never sends them, and text since deleted, hidden or moved
    away must not stay in the database either."""
    for stream_event in stream_events:
        session.execute(update(StreamEvent).where(
            StreamEvent.stream_key == stream_event.stream_key, StreamEvent.post_id == stream_event.post_id,
            StreamEvent.seq < stream_event.seq, StreamEvent.payload.is_not(None)).values(payload=null())
            .execution_options(synchronize_session=False))


def _erase_snapshots(session: Session, stream_events: list[StreamEvent]) -> None:
    """Forget the stored message of a snapshot stream that these events supersede: catch-up
    sends the latest alone. Each erases its predecessor's, so only the one before it is kept
    (found by the index, however long the stream)."""
    for stream_event in stream_events:
        previous = (select(func.max(StreamEvent.seq)).where(StreamEvent.stream_key == stream_event.stream_key,
                                                            StreamEvent.seq < stream_event.seq).scalar_subquery())
        session.execute(update(StreamEvent).where(
            StreamEvent.stream_key == stream_event.stream_key, StreamEvent.seq == previous)
            .values(payload=null()).execution_options(synchronize_session=False))


@sa_event.listens_for(Session, "after_commit")
def _broadcast(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: the transaction may still roll back
    for message in session.info.pop(PENDING, []):
        try:
            if callable(message):
                message()
            else:
                socketio.emit("event", message, to=message["stream"])
        except Exception:
            # The write is committed; a message lost here is recovered by clients from the
            # database by its number. Never turn a stored post into an error page.
            logging.getLogger("forum.events").exception("a live message could not be sent")


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(PENDING, None)
