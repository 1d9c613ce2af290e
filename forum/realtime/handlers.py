"""Socket.IO event handlers: parse, authorise through forum.permissions, call a service.

Every handler runs in its own app context, so `current_user` is loaded afresh from the
session seen at connect and checked against the account's session token: after a logout
or password change the socket is anonymous on its next message. Writes go through the
same services as HTTP and commit in `_write`; their events are broadcast after the commit.
"""
from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import emit, join_room, leave_room
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from forum import permissions
from forum.extensions import db, socketio
from forum.models.base import utcnow
from forum.presence import announcer, presence
from forum.ratelimits import charge_catch_up, charge_write
from forum.services import control_room, events, poll_events, rooms
from forum.services import polls as poll_service
from forum.services import posts as post_service
from forum.services.errors import (
    DatabaseBusy,
    LoginRequired,
    NotFound,
    RoomRefused,
    ServiceError,
    TooSoon,
    database_busy,
)

_joined: dict[str, set[str]] = {}
_catching_up: set[str] = set()  # connections with a join or sync being answered


def _error(code: int, message) -> dict:
    return {"ok": False, "error": {"code": code, "message": str(message)}}


@dataclass
class Place:
    """What a stream key names, once the current user is allowed to read it."""
    stream: str
    consultation: object | None = None
    room: object | None = None
    backchannel: bool = False
    poll: object | None = None  # a poll's results stream ("poll:<id>", "poll:<id>:breakdown")
    event: object | None = None  # an event's control room ("event:<id>:control")
    board: object | None = None  # the room whose pre-event board it is ("preevent:<room id>")


# The streams below a place: a room's moderators', a poll's breakdown, an event's control room.
_SUBSTREAMS = {"room": "moderators", "poll": "breakdown", "event": "control"}
_WHOLE = ("consultation", "room", "poll", "preevent")  # places that are a stream themselves (not an event)

# Streams whose readers are nobody's business: no presence is announced or listed there (a
# pre-event board's readers are not in the room: docs/pre-event.md).
_UNLISTED = ("poll:", "event:", "preevent:")


def _parse(stream) -> tuple[str, int, str | None]:
    """("consultation" | "room" | "poll" | "event" | "preevent", id, substream) from
    "consultation:<id>", "room:<id>", "room:<id>:moderators", "poll:<id>", "poll:<id>:breakdown",
    "event:<id>:control" or "preevent:<room id>" (substream None, "moderators", "breakdown" or
    "control"); anything else is refused."""
    parts = stream.split(":") if isinstance(stream, str) else []
    substream = parts[2] if len(parts) == 3 and _SUBSTREAMS.get(parts[0]) == parts[2] else None
    if not ((len(parts) == 2 and parts[0] in _WHOLE) or substream) \
            or not re.fullmatch(r"-?[0-9]{1,19}", parts[1]):
        raise ServiceError(_("Unknown stream."))
    return parts[0], int(parts[1]), substream


def _access(stream) -> Place:
    """Load what a stream names, if the current user may read it (404 otherwise: a page says
    why someone may not read a room or a consultation; a stream answers them all alike)."""
    try:
        return _load_place(stream)
    except (LoginRequired, RoomRefused):
        raise NotFound() from None


def _load_place(stream) -> Place:
    kind, object_id, substream = _parse(stream)
    backchannel = substream == "moderators"
    if kind == "poll":
        return _poll_place(object_id, breakdown=substream == "breakdown")
    if kind == "event":
        event = permissions.access_event(current_user, object_id)
        if not permissions.can_run_control_room(current_user, event):
            raise NotFound()
        return Place(control_room.control_stream(event), event=event)
    if kind == "preevent":  # a room's pre-event board (the plenary's: the event-wide questions)
        room = permissions.access_room(current_user, object_id)
        if not permissions.can_view_preevent_board(current_user, room):
            raise NotFound()
        return Place(events.preevent_stream(room), board=room)
    if kind == "consultation":
        consultation = permissions.access_consultation(current_user, object_id)
        return Place(events.consultation_stream(consultation), consultation=consultation)
    room = permissions.access_room(current_user, object_id)
    if backchannel and not permissions.can_use_backchannel(current_user, room):
        raise NotFound()
    rooms.close_if_due(room)
    stream = events.moderators_stream(room) if backchannel else events.room_stream(room)
    return Place(stream, room=room, backchannel=backchannel)


def _poll_place(poll_id: int, breakdown: bool) -> Place:
    """A poll's results (or breakdown) stream, for those who may see them now; refused like a
    stream they may not read otherwise (a reader who may see the results only once they voted
    subscribes after voting)."""
    poll = permissions.access_poll(current_user, poll_id)
    allowed = permissions.can_see_breakdown if breakdown else permissions.can_see_results
    if not allowed(current_user, poll):
        raise NotFound()
    stream = poll_events.breakdown_stream(poll) if breakdown else poll_events.results_stream(poll)
    return Place(stream, poll=poll)


def _can_post(place: Place) -> bool:
    if place.poll is not None or place.event is not None or place.board is not None:
        return False  # a results stream, a control room or a board takes no posts (votes: the `vote` event)
    if place.room is None:
        return permissions.can_post(current_user, place.consultation)
    if place.backchannel:
        return permissions.can_use_backchannel(current_user, place.room)
    return permissions.can_post_in_room(current_user, place.room)


def _last_seq(data) -> int | None:
    value = data.get("last_seq") if isinstance(data, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**63 - 1:
        raise ServiceError(_("last_seq must be a whole number of zero or more."))
    return value


BUSY_RETRIES = 3  # a write refused because SQLite was busy is tried again this many times


def _handler(write: bool = False):
    """Turn service errors into an error acknowledgement; for writes, commit on success and
    roll back on any error (the events of a rolled-back write are never sent). A write that
    SQLite refused while another one held the database is tried again from the start, up to
    BUSY_RETRIES times, then answered 503."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(data=None):
            if not isinstance(data, dict):
                return _error(400, _("This message could not be understood."))
            try:
                return run(function, data)
            except ServiceError as error:
                db.session.rollback()
                answer = {"code": error.status_code, "message": str(error.message), "field": error.field}
                if getattr(error, "retry_after", None):
                    answer["retry_after"] = error.retry_after
                return {"ok": False, "error": answer}
            except Exception:
                db.session.rollback()
                current_app.logger.exception("socket handler %s failed", function.__name__)
                return _error(500, _("Something went wrong on our side. Please try again."))

        def run(function, data):
            for attempt in range(BUSY_RETRIES + 1):
                try:
                    result = function(data)
                    if write:
                        db.session.commit()
                    # An answer that needs the write committed (events are numbered at commit).
                    return result() if callable(result) else result
                except OperationalError as error:
                    if not database_busy(error):
                        raise
                    db.session.rollback()
                    socketio.sleep(0.05 * (attempt + 1))  # the other write finishes meanwhile
            current_app.logger.warning("socket handler %s: the database stayed busy", function.__name__)
            raise DatabaseBusy()
        return wrapper
    return decorate


def _me() -> dict:
    if current_user.is_authenticated:
        return {"id": current_user.id, "name": current_user.display_name}
    return {"id": None, "name": ""}


@socketio.on("connect")
def on_connect(auth=None):
    # Origins are checked by Socket.IO itself (SOCKETIO_ALLOWED_ORIGINS, never "*").
    # Anonymous readers may connect: public consultations are readable by anyone.
    _joined[request.sid] = set()
    if current_user.is_authenticated:
        presence.add_connection(current_user.id, request.sid)
    return True


def _announce_presence(stream: str) -> None:
    # Only people who are signed in are listed; an anonymous reader coming or going changes
    # just the count, which the next announcement brings. Announcements are coalesced (at
    # most one per stream and PRESENCE_INTERVAL) and sent in the background, never from
    # here: see forum.presence.PresenceAnnouncer.
    if current_user.is_authenticated:
        announcer.changed(stream)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    for stream in _joined.pop(request.sid, set()):
        presence.remove(stream, request.sid)
        if not stream.startswith(_UNLISTED):
            _announce_presence(stream)
        _room_presence_changed(stream, outside_transaction=True)
    _catching_up.discard(request.sid)
    if current_user.is_authenticated:
        presence.remove_connection(current_user.id, request.sid)


@contextlib.contextmanager
def _one_catch_up():
    """One join or sync at a time per connection. Handlers of one connection run one after the
    other, but a client may send several long-polling requests at once: a second catch-up
    while one is answered is refused (429), and the client asks again when the first is done."""
    if request.sid in _catching_up:
        raise TooSoon(_("This connection is already catching up. Please wait for the answer."), retry_after=1)
    _catching_up.add(request.sid)
    try:
        yield
    finally:
        _catching_up.discard(request.sid)


def _catch_up_answer(stream: str, last_seq: int | None, missed_key: str) -> dict:
    """The catch-up part of a join or sync answer: a page of stored messages, whether more
    follow, or `reload` (docs/realtime.md)."""
    page = events.catch_up(stream, last_seq) if last_seq is not None else events.CatchUp()
    return {missed_key: page.events, "more": page.more, "reload": page.reload}


@socketio.on("join")
@_handler(write=True)  # joining may close a room whose countdown has run out
def on_join(data):
    last_seq = _last_seq(data)
    kind, object_id, substream = _parse(data.get("stream"))
    stream = f"{kind}:{object_id}" + (f":{substream}" if substream else "")
    charge_catch_up()  # 429 with retry_after over this connection's or address's allowance
    with _one_catch_up():
        place = _enter(stream)
        _joined.setdefault(request.sid, set()).add(stream)
        listed = not stream.startswith(_UNLISTED)  # who reads a poll's results is nobody's business
        presence.add(stream, request.sid, _me() if listed else {})
        if place.room is not None and not place.backchannel:
            rooms.record_attendance(current_user, place.room)
            _event_of_room[place.room.id] = place.room.event_id
            _room_presence_changed(stream)
        if place.event is not None:
            control_room.request_snapshot(place.event.id)  # figures as they are now, once committed
        caught_up = _catch_up_answer(stream, last_seq, "missed")
    answer = {"ok": True, "stream": stream, "seq": events.latest_seq(stream), **caught_up,
              "can_post": _can_post(place),
              # The browser's clock may be off: countdowns are shown relative to this.
              "server_time": utcnow().isoformat()}
    if listed:
        answer["presence"] = presence.summary(stream)
        _announce_presence(stream)
    if place.room is not None:
        answer["room"] = events.room_state(place.room)
    return answer


def _enter(stream: str) -> Place:
    """Check, then join the stream's Socket.IO room, then check again. Only a reader who may
    read the stream is ever in its room (a refused join catches no broadcast); and a change of
    who may read it committed between the first check and the join (whose re-authorisation
    emptied the room before this socket was in it) is caught by the second check, which
    reads anew."""
    _access(stream)
    join_room(stream)
    try:
        db.session.flush()  # nothing of this join's own is lost by reading anew
        db.session.expire_all()
        return _access(stream)
    except ServiceError:
        leave_room(stream)
        raise


@socketio.on("sync")
@_handler(write=True)  # like join, it may close a room whose countdown has run out
def on_sync(data):
    last_seq = _last_seq(data)
    charge_catch_up()  # 429 with retry_after over this connection's or address's allowance
    with _one_catch_up():
        place = _access(data.get("stream"))
        return {"ok": True, **_catch_up_answer(place.stream, last_seq or 0, "events")}


@socketio.on("leave")
@_handler()
def on_leave(data):
    stream = data.get("stream")
    if isinstance(stream, str) and stream in _joined.get(request.sid, set()):
        _joined[request.sid].discard(stream)
        leave_room(stream)
        presence.remove(stream, request.sid)
        if not stream.startswith(_UNLISTED):
            _announce_presence(stream)
        _room_presence_changed(stream, outside_transaction=True)
    return {"ok": True}


# room id -> its event's id, for the rooms whose streams this process's sockets joined (a room
# never changes event): a leave or a disconnect tells the control room without a query.
_event_of_room: dict[int, int] = {}


def _room_presence_changed(stream: str, outside_transaction: bool = False) -> None:
    """Someone came to or left a room's stream: its event's control room shows who is present."""
    kind, _sep, rest = stream.partition(":")
    if kind != "room" or not rest.isdigit():
        return  # not a room's own stream (its moderators' is not counted)
    event_id = _event_of_room.get(int(rest))
    if event_id is not None:
        control_room.request_snapshot(event_id, outside_transaction=outside_transaction)


@socketio.on("post")
@_handler(write=True)
def on_post(data):
    if not current_user.is_authenticated:
        return _error(401, _("Please log in to continue."))
    place = _access(data.get("stream"))
    if place.poll is not None or place.event is not None or place.board is not None:
        raise ServiceError(_("Unknown stream."))
    parent = None
    if data.get("parent_id") is not None:
        if isinstance(data["parent_id"], bool) or not isinstance(data["parent_id"], int):
            raise ServiceError(_("This message could not be understood."))
        parent = permissions.access_post(current_user, data["parent_id"],
                                         consultation_id=place.consultation.id if place.consultation else None,
                                         room_id=place.room.id if place.room else None)
    topic_id = data.get("topic_id")
    if (place.consultation is not None and parent is None
            and (isinstance(topic_id, bool) or not isinstance(topic_id, int))):
        raise ServiceError(_("Choose one of this consultation's topics."), field="topic_id")
    fields = {name: data.get(name) for name in ("subject", "body", "client_key")}
    if any(value is not None and not isinstance(value, str) for value in fields.values()):
        raise ServiceError(_("This message could not be understood."))
    quote = data.get("quote", False)  # the reply quotes its parent
    if not isinstance(quote, bool):
        raise ServiceError(_("This message could not be understood."))
    stance = data.get("stance")  # a code: a response to a proposal takes one (services/stances.py)
    if stance is not None and not isinstance(stance, str):
        raise ServiceError(_("This message could not be understood."), field="stance")
    charge_write()  # the same allowance as the forms' writes; 429 with retry_after when spent
    if place.room is not None:
        if stance:
            raise ServiceError(_("A room's message takes no stance: only responses to a proposal do."),
                               field="stance")
        post = post_service.post_in_room(current_user, place.room, body=fields["body"] or "", parent=parent,
                                         backchannel=place.backchannel, client_key=fields["client_key"], quote=quote)
        db.session.flush()
        return _posted(post, status=post.status.value)
    consultation = place.consultation
    post = post_service.create_post(
        current_user, consultation, topic_id=topic_id, parent=parent, subject=fields["subject"] or "",
        body=fields["body"] or "", on_behalf_of_organisation=data.get("on_behalf_of_organisation") is True,
        client_key=fields["client_key"], quote=quote, stance=stance,
    )
    db.session.flush()
    return _posted(post)


def _posted(post, **more):
    """The answer to a post, once committed: its event is numbered at commit."""
    post_id, thread_id = post.id, post.thread_id

    def answer() -> dict:
        return {"ok": True, "post": {"id": post_id, "seq": events.created_seq(post_id), "thread_id": thread_id,
                                     **more}}
    return answer


@socketio.on("typing")
@_handler()
def on_typing(data):
    stream = data.get("stream")
    if (not current_user.is_authenticated or not isinstance(stream, str)
            or stream not in _joined.get(request.sid, set())):
        return {"ok": False}
    # One notice per interval and account, however many connections (tabs, devices) it has.
    if not presence.allow_once_per(f"typing:{current_user.id}:{stream}", current_app.config["TYPING_INTERVAL"]):
        return {"ok": True}  # throttled: one notice per interval is enough
    if not _can_post(_access(stream)):  # an observer, a muted person, a closed room: nothing to type
        return {"ok": False}
    emit("typing", {"stream": stream, "user": _me()}, to=stream, include_self=False)
    return {"ok": True}


@socketio.on("vote")
@_handler(write=True)
def on_vote(data):
    """A ballot, by the same rules (and with the same answers) as the poll's form: either
    `fields`, the form's own fields ({name: value or [values]}), read as the form's are,
    or `choice` in PollVote.choice's shape; services.polls.cast_vote decides. Sending the
    same ballot again is answered as the first time (a retry after a lost answer)."""
    if not current_user.is_authenticated:
        return _error(401, _("Please log in to continue."))
    poll_id, fields = data.get("poll_id"), data.get("fields")
    if isinstance(poll_id, bool) or not isinstance(poll_id, int) \
            or (fields is not None and _form_fields(fields) is None):
        raise ServiceError(_("This message could not be understood."))
    poll = permissions.access_poll(current_user, poll_id)
    if fields is not None:
        choice, _chosen = poll_service.ballot_from_form(poll, MultiDict(_form_fields(fields)))
    else:
        choice = data.get("choice")
    charge_write()  # the same allowance as the forms' writes; 429 with retry_after when spent
    poll_service.cast_vote(current_user, poll, choice)

    def answer() -> dict:
        # Once committed: whether this voter may now follow the results (after_vote). The
        # results that count this ballot follow on "poll:<id>" within the debounce (a job).
        return {"ok": True, "poll_id": poll_id,
                "can_see_results": permissions.can_see_results(current_user, poll),
                "can_see_breakdown": permissions.can_see_breakdown(current_user, poll)}
    return answer


def _form_fields(fields) -> list[tuple[str, str]] | None:
    """A form's fields as (name, value) pairs, from {name: value or [values]} of text."""
    if not isinstance(fields, dict) or len(fields) > 200:
        return None
    pairs = []
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and len(v) <= 100 for v in values) or len(values) > 200:
            return None
        pairs.extend((name, v) for v in values)
    return pairs
