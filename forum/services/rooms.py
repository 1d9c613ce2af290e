"""Running an event's rooms live: phases and the wrap-up countdown, broadcasts and recall,
raised hands, speaking shares, key takeaways and the report-back to the plenary, and the
room's messages as a reader may see them."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from forum import permissions
from forum.extensions import db
from forum.models import Event, EventMember, HandRaise, Post, PostStatus, Room, Takeaway, TakeawayRevision, User
from forum.models.base import utcnow
from forum.models.events import EventStatus, MemberRole, RoomPhase
from forum.rendering import render_markdown
from forum.services import audit, events
from forum.services import posts as post_service
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.mentions import render_post
from forum.services.text import clean_text

WRAP_UP_MINUTES = range(1, 61)
TAKEAWAY_MAX = 4000
RECALL_MESSAGE_MAX = 500

# The phase changes a room's moderators may make; closed -> open is an organiser's reopening.
TRANSITIONS = {
    RoomPhase.NOT_STARTED: {RoomPhase.OPEN},
    RoomPhase.OPEN: {RoomPhase.WRAP_UP, RoomPhase.CLOSED},
    RoomPhase.WRAP_UP: {RoomPhase.CLOSED},
    RoomPhase.CLOSED: {RoomPhase.OPEN},
}


def _require_moderator(actor: User, room: Room) -> None:
    if not permissions.can_moderate_room(actor, room):
        raise PermissionDenied()


def _require_running(event: Event) -> None:
    if event.status is EventStatus.ENDED:
        raise PermissionDenied(_l("This event has ended: it can be read but no longer changed."))
    if event.status is not EventStatus.PUBLISHED:
        raise ValidationError(_l("Publish the event first."))


def _require_organiser(actor: User, event: Event) -> None:
    if not permissions.is_event_organiser(actor, event):
        raise PermissionDenied()


# --- Phases -------------------------------------------------------------------------

def set_phase(actor: User, room: Room, phase: str | RoomPhase, wrap_up_minutes: int | None = None) -> bool:
    """Move a room to `phase`; returns False when it was there already (nothing changes).

    Wrap-up starts a countdown of 1 to 60 minutes: the room stores the instant it ends, so
    every reader's countdown reaches zero at the same moment."""
    _require_moderator(actor, room)
    _require_running(room.event)
    try:
        target = RoomPhase(phase)
    except ValueError:
        raise ValidationError(_l("Unknown phase."), field="phase") from None
    if target is room.phase:
        return False
    if target not in TRANSITIONS[room.phase]:
        raise ValidationError(_l("A room cannot go from this phase to that one."), field="phase")
    if room.phase is RoomPhase.CLOSED and not permissions.can_reopen_room(actor, room):
        raise PermissionDenied(_l("Only an organiser can reopen a closed room."))
    if target is RoomPhase.CLOSED:
        close_room(actor, room)
        return True
    details: dict[str, Any] = {"from": room.phase.value, "to": target.value}
    if target is RoomPhase.WRAP_UP:
        if not isinstance(wrap_up_minutes, int) or wrap_up_minutes not in WRAP_UP_MINUTES:
            raise ValidationError(_l("Give the wrap-up between 1 and 60 minutes."), field="wrap_up_minutes")
        room.wrap_up_ends_at = utcnow() + timedelta(minutes=wrap_up_minutes)
        details["minutes"] = wrap_up_minutes
    else:
        room.wrap_up_ends_at = None
    room.phase = target
    audit.log(actor, "room.phase", room=room, **details)
    events.announce_room_state(room)
    return True


def close_room(actor: User, room: Room, **details: Any) -> None:
    """Close a room (checks done by the caller): log, tell its readers, report back."""
    details = {"from": room.phase.value, "to": RoomPhase.CLOSED.value, **details}
    room.phase = RoomPhase.CLOSED
    room.wrap_up_ends_at = None
    audit.log(actor, "room.phase", room=room, **details)
    events.announce_room_state(room)
    _record_card(room)


def close_if_due(room: Room, now: datetime | None = None) -> bool:
    """Close a room whose wrap-up countdown has run out (called when someone opens the room
    or joins it live, so no timer process is needed). Returns whether it closed it."""
    now = now or utcnow()
    if room.phase is not RoomPhase.WRAP_UP or room.wrap_up_ends_at is None or room.wrap_up_ends_at > now:
        return False
    # Two readers arriving together: only the one whose update matched closes it.
    changed = db.session.execute(
        update(Room).where(Room.id == room.id, Room.phase == RoomPhase.WRAP_UP)
        .values(phase=RoomPhase.CLOSED, wrap_up_ends_at=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(room, ["phase", "wrap_up_ends_at"])
    if not changed:
        return False
    # Nobody acted: the log names the event's owner, marked automatic.
    audit.log(room.event.owner, "room.phase", room=room, automatic=True,
              **{"from": RoomPhase.WRAP_UP.value, "to": RoomPhase.CLOSED.value})
    events.announce_room_state(room)
    _record_card(room)
    return True


# --- Organisers' event-wide actions -----------------------------------------------------

def record_attendance(user, room: Room, now: datetime | None = None) -> bool:
    """`user` came into `room` (its page or its stream): if the room is running (open or in
    wrap-up) and they are registered for its event, they attended it, from the first time
    on. A read, and a write only the first time (a join must not take SQLite's write lock)."""
    if not getattr(user, "is_authenticated", False) or room.phase not in (RoomPhase.OPEN, RoomPhase.WRAP_UP):
        return False
    member = db.session.execute(
        select(EventMember.id).where(EventMember.event_id == room.event_id, EventMember.user_id == user.id,
                                     EventMember.attended_at.is_(None))).scalar()
    if member is None:
        return False
    db.session.execute(update(EventMember).where(EventMember.id == member, EventMember.attended_at.is_(None))
                       .values(attended_at=now or utcnow()).execution_options(synchronize_session=False))
    return True


def broadcast(actor: User, event: Event, body: str) -> list[Post]:
    """One announcement in every room that is not closed (the plenary included), shown to
    each room's readers like a message."""
    _require_organiser(actor, event)
    _require_running(event)
    body = post_service._clean_body(body)
    html = render_post(body)
    sent = []
    for room in event.rooms:
        if room.phase is RoomPhase.CLOSED:
            continue  # read-only: nothing is added to it
        post = Post(room=room, author=actor, body=body, body_html=html, announcement=True,
                    status=PostStatus.PUBLISHED)
        sent.append(post_service._store(actor, post, "post.created"))
    audit.log(actor, "event.broadcast", event=event, post_ids=[p.id for p in sent])
    return sent


def recall(actor: User, event: Event, message: str = "") -> None:
    """Ask everyone in a breakout room to come back to the plenary."""
    _require_organiser(actor, event)
    _require_running(event)
    message = clean_text(message, field="message", max_length=RECALL_MESSAGE_MAX)
    data = {"plenary_id": event.plenary.id, "message": message}
    for room in event.breakout_rooms:
        events.record_data(events.room_stream(room), "event.recall", data)
    audit.log(actor, "event.recall", event=event, message=message)


# --- Raised hands -------------------------------------------------------------------

def _open_hands(room: Room) -> list[HandRaise]:
    return list(db.session.scalars(
        select(HandRaise).options(joinedload(HandRaise.user))
        .where(HandRaise.room_id == room.id, HandRaise.lowered_at.is_(None))
        .order_by(HandRaise.raised_at, HandRaise.id)))


def _queue_data(room: Room) -> dict[str, Any]:
    return {"room_id": room.id, "queue": [
        {"hand_id": h.id, "user_id": h.user_id, "name": h.user.display_name,
         "raised_at": h.raised_at.isoformat()} for h in _open_hands(room)]}


def _queue_changed(room: Room, user_id: int, state: dict[str, Any]) -> None:
    db.session.flush()
    events.record_data(events.moderators_stream(room), "hand.queue", _queue_data(room))
    events.notify_user_after_commit(user_id, {"type": "hand.state", "room_id": room.id, **state})


def own_hand(user, room: Room) -> HandRaise | None:
    """The user's raised hand in the room, if it is up."""
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(select(HandRaise).where(
        HandRaise.room_id == room.id, HandRaise.user_id == user.id, HandRaise.lowered_at.is_(None)))


def raise_hand(actor: User, room: Room) -> HandRaise:
    """Join the room's queue; raising an already raised hand keeps its place."""
    if not permissions.can_raise_hand(actor, room):
        raise PermissionDenied(_l("You cannot raise your hand in this room."))
    hand = own_hand(actor, room)
    if hand is not None:
        return hand
    hand = HandRaise(room_id=room.id, user_id=actor.id)
    db.session.add(hand)
    _queue_changed(room, actor.id, {"raised": True, "floor": False})
    return hand


def lower_hand(actor: User, room: Room) -> bool:
    hand = own_hand(actor, room)
    if hand is None:
        return False
    hand.lowered_at = utcnow()
    _queue_changed(room, actor.id, {"raised": False, "floor": False})
    return True


def hand_queue(actor: User, room: Room) -> list[HandRaise]:
    """Raised hands, first raised first."""
    _require_moderator(actor, room)
    return _open_hands(room)


def give_floor(actor: User, room: Room, hand_id: int) -> HandRaise:
    _require_moderator(actor, room)
    _require_running(room.event)
    hand = db.session.get(HandRaise, hand_id) if permissions.valid_id(hand_id) else None
    if hand is None or hand.room_id != room.id or hand.lowered_at is not None:
        raise NotFound(_l("This hand is no longer raised."))
    now = utcnow()
    hand.floor_given_at, hand.floor_given_by_id, hand.lowered_at = now, actor.id, now
    audit.log(actor, "floor.given", room=room, target_user=hand.user)
    events.record_data(events.room_stream(room), "hand.floor",
                       {"room_id": room.id, "user_id": hand.user_id, "name": hand.user.display_name})
    _queue_changed(room, hand.user_id, {"raised": False, "floor": True})
    return hand


# --- Inviting a quiet participant to speak (the moderators' console, from the speaking share)

def invite_to_speak(actor: User, room: Room, user: User) -> None:
    """Ask one participant of the room, by a notice on their open pages, to take the floor:
    the moderators' nudge for someone who has not spoken yet. Logged; nothing else changes."""
    _require_moderator(actor, room)
    _require_running(room.event)
    member = permissions.membership(user, room.event)
    if member is None or member.role is not MemberRole.PARTICIPANT or member.room_id != room.id:
        raise ValidationError(_l("Only a participant placed in this room can be invited to speak."),
                              field="user_id")
    if not permissions.can_post_in_room(user, room):
        raise ValidationError(_l("%(name)s cannot post in this room now: it is not open, it is locked "
                                 "or they are muted.", name=user.display_name), field="user_id")
    audit.log(actor, "speak.invited", room=room, target_user=user)
    events.notify_user_after_commit(user.id, {"type": "speak.invited", "room_id": room.id})


# --- Speaking share -----------------------------------------------------------------

@dataclass
class Speaker:
    user_id: int
    name: str
    posts: int
    words: int
    post_share: float  # 0..1 of the room's counted posts
    word_share: float  # 0..1 of the room's counted words


@dataclass
class SpeakingShare:
    speakers: list[Speaker]  # most words first
    posts: int
    words: int
    gini: float              # over words: 0 = everyone equal, towards 1 = one person speaks
    quiet: list[Speaker]     # by name


def gini(values: list[int]) -> float:
    """Gini coefficient: G = sum_i sum_j |x_i - x_j| / (2 n^2 mean). 0 when everyone has the
    same (or nobody has anything); (n-1)/n when one of n has everything."""
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    # Sorted form of the same sum, O(n log n): sum_i (2i - n - 1) x_(i) for i = 1..n.
    ordered = sorted(values)
    weighted = sum((2 * i - n - 1) * x for i, x in enumerate(ordered, start=1))
    return weighted / (n * total)


def speaking_share(actor: User, room: Room) -> SpeakingShare:
    """Who speaks how much among the room's participants (its members, and anyone else who
    posted), leaving out its moderators and the organisers, and back-channel, announcement,
    pending, rejected and deleted messages. Members who said nothing count as zero. Quiet:
    below half the mean share of words, or no words at all."""
    _require_moderator(actor, room)
    return speaking_shares([room])[room.id]


def speaking_shares(rooms: list[Room]) -> dict[int, SpeakingShare]:
    """`speaking_share` of several rooms of one event at once (the organisers' control room):
    three queries whatever the number of rooms; no permission check (the caller's). The
    rooms' moderators should be loaded with them (each room's staff is left out)."""
    if not rooms:
        return {}
    room_ids = [room.id for room in rooms]
    rows = db.session.execute(
        select(Post.room_id, Post.author_id, Post.body).where(
            Post.room_id.in_(room_ids), Post.backchannel.is_(False), Post.announcement.is_(False),
            Post.status == PostStatus.PUBLISHED, Post.deleted_at.is_(None))).all()
    counts: dict[int, dict[int, list[int]]] = {room_id: {} for room_id in room_ids}
    for room_id, author_id, body in rows:
        tally = counts[room_id].setdefault(author_id, [0, 0])
        tally[0] += 1
        tally[1] += len(body.split())
    members: dict[int, set[int]] = {room_id: set() for room_id in room_ids}
    for room_id, user_id in db.session.execute(select(EventMember.room_id, EventMember.user_id).where(
            EventMember.event_id == rooms[0].event_id, EventMember.room_id.in_(room_ids),
            EventMember.role == MemberRole.PARTICIPANT)):
        members[room_id].add(user_id)
    everyone = set().union(*members.values(), *(set(c) for c in counts.values()))
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(everyone)))} if everyone else {}
    return {room.id: _share(counts[room.id], members[room.id], people,
                            {m.user_id for m in room.moderators} | {room.event.owner_id})
            for room in rooms}


def _share(counts: dict[int, list[int]], member_ids: set[int], people: dict[int, User],
           staff: set[int]) -> SpeakingShare:
    """One room's speaking share from its participants' [posts, words] (`counts`)."""
    ids = [i for i in member_ids | set(counts) if i in people and i not in staff and not people[i].is_admin]
    total_posts = sum(counts.get(i, [0, 0])[0] for i in ids)
    total_words = sum(counts.get(i, [0, 0])[1] for i in ids)
    speakers = []
    for i in ids:
        posts, words = counts.get(i, [0, 0])
        speakers.append(Speaker(i, people[i].display_name, posts, words,
                                posts / total_posts if total_posts else 0.0,
                                words / total_words if total_words else 0.0))
    speakers.sort(key=lambda s: (-s.words, -s.posts, s.name.casefold(), s.user_id))
    threshold = 0.5 / len(speakers) if speakers else 0.0
    quiet = sorted((s for s in speakers if s.words == 0 or s.word_share < threshold),
                   key=lambda s: (s.name.casefold(), s.user_id))
    return SpeakingShare(speakers, total_posts, total_words, gini([s.words for s in speakers]), quiet)


# --- Key takeaways ------------------------------------------------------------------

def takeaways(room: Room) -> list[Takeaway]:
    return list(db.session.scalars(
        select(Takeaway).options(joinedload(Takeaway.credited_user), joinedload(Takeaway.source_post))
        .where(Takeaway.room_id == room.id, Takeaway.deleted_at.is_(None))
        .order_by(Takeaway.position, Takeaway.id)))


def takeaway_of(room: Room, takeaway_id: int) -> Takeaway:
    takeaway = db.session.get(Takeaway, takeaway_id) if permissions.valid_id(takeaway_id) else None
    if takeaway is None or takeaway.room_id != room.id or takeaway.deleted_at is not None:
        raise NotFound()
    return takeaway


def _clean_takeaway(body: str) -> str:
    return clean_text(body, field="body", max_length=TAKEAWAY_MAX, required=True, multiline=True)


def _takeaways_changed(room: Room) -> None:
    db.session.flush()
    events.record_data(events.moderators_stream(room), "takeaway.changed", {
        "room_id": room.id, "takeaways": [
            {"id": t.id, "body": t.body, "body_html": t.body_html,
             "credited": t.credited.display_name if t.credited else None}
            for t in takeaways(room)]})
    if room.phase is RoomPhase.CLOSED and not room.is_plenary:
        _record_card(room)  # the plenary shows the corrected card


def announce_takeaways(room: Room) -> None:
    """Tell the room's consoles (and, once it is closed, the plenary's report-back) its
    takeaways as they are now: after a change made outside this module (an account closed
    with its contributions erased, forum/services/account_closure.py)."""
    _takeaways_changed(room)


def _require_takeaway_editor(actor: User, room: Room) -> None:
    if not permissions.can_edit_takeaways(actor, room):
        if room.event.status is EventStatus.ENDED:
            raise PermissionDenied(_l("This event has ended: it can be read but no longer changed."))
        raise PermissionDenied()


def _can_become_takeaway(post: Post, room: Room) -> bool:
    """Only what every reader of the room already sees: a takeaway is reported to the plenary
    and on the event page, so anything else would publish words kept from them."""
    return (post.room_id == room.id and not post.backchannel and not post.announcement
            and post.is_published and not post.is_deleted and not post.is_hidden)


def add_takeaway(actor: User, room: Room, body: str, source_post: Post | None = None) -> Takeaway:
    """A takeaway drafted by a co-moderator, or promoted from a participant's message (then
    crediting its author; an empty body takes the message's text)."""
    _require_takeaway_editor(actor, room)
    if source_post is not None:
        if not _can_become_takeaway(source_post, room):
            raise ValidationError(_l("Only a published message of this room, neither hidden nor deleted, "
                                     "can become a takeaway."), field="source_post_id")
        if not (body or "").strip():
            body = source_post.body
    body = _clean_takeaway(body)
    position = max((t.position for t in takeaways(room)), default=0) + 1
    takeaway = Takeaway(room_id=room.id, position=position, body=body, body_html=render_markdown(body),
                        source_post_id=source_post.id if source_post else None,
                        credited_user_id=source_post.author_id if source_post else None,
                        created_by_id=actor.id)
    db.session.add(takeaway)
    db.session.flush()
    if source_post is not None:
        audit.log(actor, "takeaway.promoted", room=room, post=source_post, target_user=source_post.author,
                  takeaway_id=takeaway.id)
    _takeaways_changed(room)
    return takeaway


def edit_takeaway(actor: User, takeaway: Takeaway, body: str) -> bool:
    """Any co-moderator may edit; the replaced text is kept. Returns whether it changed."""
    room = takeaway.room
    _require_takeaway_editor(actor, room)
    body = _clean_takeaway(body)
    if body == takeaway.body:
        return False
    now = utcnow()
    takeaway.revisions.append(TakeawayRevision(body=takeaway.body, editor_id=actor.id, replaced_at=now))
    takeaway.body, takeaway.body_html, takeaway.updated_at = body, render_markdown(body), now
    _takeaways_changed(room)
    return True


def delete_takeaway(actor: User, takeaway: Takeaway) -> None:
    room = takeaway.room
    _require_takeaway_editor(actor, room)
    takeaway.deleted_at = utcnow()
    _takeaways_changed(room)


def takeaway_history(actor: User, takeaway: Takeaway) -> list[TakeawayRevision]:
    """Earlier texts, oldest first."""
    _require_moderator(actor, takeaway.room)
    return list(takeaway.revisions)


# --- Report-back --------------------------------------------------------------------

@dataclass
class TakeawayCard:
    body_html: str
    credited: str | None


@dataclass
class ReportCard:
    room_id: int
    position: int
    title: str
    moderators: list[str]
    takeaways: list[TakeawayCard]


def _card(room: Room, items: list[Takeaway]) -> ReportCard:
    return ReportCard(room.id, room.position, room.title, [m.user.display_name for m in room.moderators],
                      [TakeawayCard(t.body_html, t.credited.display_name if t.credited else None)
                       for t in items])


def _record_card(room: Room) -> None:
    if room.is_plenary:
        return
    db.session.flush()
    events.record_data(events.room_stream(room.event.plenary), "report.card", asdict(_card(room, takeaways(room))))


def report_back(event: Event) -> list[ReportCard]:
    """A card per closed breakout room, in room order, for the plenary and the event page."""
    closed = [room for room in event.breakout_rooms if room.phase is RoomPhase.CLOSED]
    if not closed:
        return []
    items = db.session.scalars(
        select(Takeaway).options(joinedload(Takeaway.credited_user), joinedload(Takeaway.source_post))
        .where(Takeaway.room_id.in_([r.id for r in closed]), Takeaway.deleted_at.is_(None))
        .order_by(Takeaway.position, Takeaway.id)).all()
    by_room: dict[int, list[Takeaway]] = {}
    for takeaway in items:
        by_room.setdefault(takeaway.room_id, []).append(takeaway)
    return [_card(room, by_room.get(room.id, [])) for room in closed]


# --- Messages -----------------------------------------------------------------------

@dataclass
class MessagePage:
    messages: list[Post]  # oldest first
    has_more: bool        # older messages exist (ask again with before_id=messages[0].id);
    #                       with after_id: newer ones (ask again with after_id=messages[-1].id)


def list_messages(viewer, room: Room, *, backchannel: bool = False, before_id: int | None = None,
                  after_id: int | None = None, limit: int | None = None) -> MessagePage:
    """The newest `limit` messages the viewer may read (before `before_id`), oldest first
    (`limit`: the ROOM_PAGE_SIZE setting unless given); with `after_id` instead, the oldest
    `limit` after it (what a client that has read up to `after_id` has not seen yet):
    published ones, the viewer's own pending or rejected ones, and every pending or rejected
    one for the room's moderators (as permissions.can_read_post allows). Ordered by id, which
    follows the order messages were stored."""
    if before_id is not None and after_id is not None:
        raise ValueError("list_messages takes before_id or after_id, not both")
    if backchannel:
        if not permissions.can_use_backchannel(viewer, room):
            raise PermissionDenied()
    elif not permissions.can_view_room(viewer, room):
        raise NotFound()
    readable = [Post.status == PostStatus.PUBLISHED]
    if viewer is not None and viewer.is_authenticated:
        readable.append(Post.author_id == viewer.id)
        if permissions.can_moderate_room(viewer, room):
            readable.append(Post.status.in_([PostStatus.PENDING, PostStatus.REJECTED]))
    if limit is None:
        limit = current_app.config["ROOM_PAGE_SIZE"]
    # A quoted message may be older than the page: its text and author in one more query.
    query = (select(Post).options(joinedload(Post.author), selectinload(Post.quoted_post).joinedload(Post.author))
             .where(Post.room_id == room.id, Post.backchannel.is_(backchannel), or_(*readable))
             .limit(limit + 1))
    if after_id is not None:
        rows = list(db.session.scalars(query.where(Post.id > after_id).order_by(Post.id)))
        return MessagePage(rows[:limit], len(rows) > limit)
    if before_id is not None:
        query = query.where(Post.id < before_id)
    rows = list(db.session.scalars(query.order_by(Post.id.desc())))
    return MessagePage(list(reversed(rows[:limit])), len(rows) > limit)


@dataclass
class RoomCounts:
    participants: int  # placed in the room (the plenary: every participant of the event)
    messages: int      # published messages of its discussion, deleted ones left out


def room_counts(room: Room) -> RoomCounts:
    """A room's figures as its readers may know them (no permission check: the caller's)."""
    members = select(func.count(EventMember.id)).where(
        EventMember.event_id == room.event_id, EventMember.role == MemberRole.PARTICIPANT)
    if not room.is_plenary:
        members = members.where(EventMember.room_id == room.id)
    messages = select(func.count(Post.id)).where(
        Post.room_id == room.id, Post.backchannel.is_(False), Post.status == PostStatus.PUBLISHED,
        Post.deleted_at.is_(None))
    return RoomCounts(db.session.scalar(members) or 0, db.session.scalar(messages) or 0)


def neighbour_message_id(post: Post) -> int | None:
    """The published message after `post` in its room's discussion (else the one before),
    outside its thread: where a reader's place is once that thread has left the room."""
    others = select(Post.id).where(Post.room_id == post.room_id, Post.backchannel.is_(post.backchannel),
                                   Post.status == PostStatus.PUBLISHED, Post.thread_id != post.thread_id)
    after = db.session.scalar(others.where(Post.id > post.id).order_by(Post.id).limit(1))
    return after or db.session.scalar(others.where(Post.id < post.id).order_by(Post.id.desc()).limit(1))


def pinned_messages(viewer, room: Room) -> list[Post]:
    """Pinned messages of the room, first pinned first (the viewer must be able to read the room)."""
    if not permissions.can_view_room(viewer, room):
        raise NotFound()
    return list(db.session.scalars(
        select(Post).options(joinedload(Post.author))
        .where(Post.room_id == room.id, Post.backchannel.is_(False), Post.pinned_at.is_not(None),
               Post.deleted_at.is_(None), Post.status == PostStatus.PUBLISHED)
        .order_by(Post.pinned_at, Post.id)))
