"""Setting up live events: details, rooms and co-moderators, registration, invitations and
placing people in breakout rooms (by their choice, by the organiser, or balanced)."""
from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from forum import permissions
from forum.extensions import db
from forum.models import Event, EventMember, Moderator, Post, Room, User
from forum.models.base import utcnow
from forum.models.events import AssignmentMode, EventStatus, MemberRole, RoomPhase, new_invite_token
from forum.models.users import find_user_by_email
from forum.rendering import render_markdown
from forum.services import assignment, audit, events, notifications, rooms
from forum.services.accounts import timezone_names
from forum.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.services.text import clean_text

MAX_ROOMS = 20            # breakout rooms per event
MAX_MODERATORS = 3        # co-moderators per room
MAX_CAPACITY = 1000
MAX_SPEAKERS = 40


@dataclass
class EventInput:
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    description: str = ""
    agenda: str = ""
    speakers: str = ""
    timezone: str = "Europe/Brussels"
    assignment_mode: str = AssignmentMode.BALANCED.value


@dataclass
class RoomInput:
    title: str
    description: str = ""
    capacity: int | None = None


def _require_edit(actor: User, event: Event) -> None:
    if not permissions.can_edit_event(actor, event):
        raise PermissionDenied()


def _require_not_ended(event: Event) -> None:
    if event.status is EventStatus.ENDED:
        raise PermissionDenied(_l("This event has ended: it can be read but no longer changed."))


# --- The event ----------------------------------------------------------------------

def _apply(event: Event, data: EventInput) -> None:
    event.title = clean_text(data.title, field="title", max_length=300, required=True)
    event.description = clean_text(data.description, field="description", max_length=20_000, multiline=True)
    event.description_html = render_markdown(event.description, document=True)
    event.agenda = clean_text(data.agenda, field="agenda", max_length=10_000, multiline=True)
    event.agenda_html = render_markdown(event.agenda, document=True)
    speakers = clean_text(data.speakers, field="speakers", max_length=5_000, multiline=True)
    if len([line for line in speakers.splitlines() if line.strip()]) > MAX_SPEAKERS:
        raise ValidationError(_l("An event has at most %(max)d speakers.", max=MAX_SPEAKERS), field="speakers")
    event.speakers = "\n".join(line.strip() for line in speakers.splitlines() if line.strip())
    if data.timezone not in timezone_names():
        raise ValidationError(_l("Choose a time zone from the list."), field="timezone")
    event.timezone = data.timezone
    try:
        event.assignment_mode = AssignmentMode(data.assignment_mode)
    except ValueError:
        raise ValidationError(_l("Choose how participants are placed in rooms."), field="assignment_mode") from None
    for name, value in (("starts_at", data.starts_at), ("ends_at", data.ends_at)):
        if value is None:
            raise ValidationError(_l("This field is required."), field=name)
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        if not 1900 <= value.year <= 9000:
            raise ValidationError(_l("Choose a date between the years 1900 and 9000."), field=name)
    if data.ends_at <= data.starts_at:
        raise ValidationError(_l("The end must be after the start."), field="ends_at")
    event.starts_at, event.ends_at = data.starts_at, data.ends_at


def create_event(actor: User, data: EventInput) -> Event:
    """A draft event with its plenary (room 0); breakout rooms are added afterwards."""
    if not permissions.can_create_event(actor):
        raise PermissionDenied()
    event = Event(owner=actor, status=EventStatus.DRAFT)
    _apply(event, data)
    # Stored in the organiser's language; they may rename it like any room.
    event.rooms.append(Room(position=0, title=str(_l("Plenary")), phase=RoomPhase.NOT_STARTED))
    db.session.add(event)
    db.session.flush()
    return event


def update_event(actor: User, event: Event, data: EventInput) -> None:
    _require_edit(actor, event)
    _require_not_ended(event)
    _apply(event, data)
    db.session.flush()


def publish_event(actor: User, event: Event) -> None:
    _require_edit(actor, event)
    if event.status is not EventStatus.DRAFT:
        raise ValidationError(_l("Only a draft can be published."))
    event.status = EventStatus.PUBLISHED
    db.session.flush()


def end_event(actor: User, event: Event) -> None:
    """The event becomes read-only everywhere: every room still running closes (and reports
    back to the plenary as if its moderators had closed it)."""
    _require_edit(actor, event)
    if event.status is not EventStatus.PUBLISHED:
        raise ValidationError(_l("Only a published event can be ended."))
    for room in event.rooms:
        if room.phase is not RoomPhase.CLOSED:
            rooms.close_room(actor, room, ended=True)
    event.status = EventStatus.ENDED
    db.session.flush()
    notifications.feedback_opened(actor, event)  # its participants are asked for feedback


def regenerate_invite(actor: User, event: Event) -> str:
    """A new invitation link; the old one stops working."""
    _require_edit(actor, event)
    _require_not_ended(event)
    event.invite_token = new_invite_token()
    db.session.flush()
    return event.invite_token


# --- Rooms and co-moderators ----------------------------------------------------------

def _apply_room(room: Room, data: RoomInput) -> None:
    room.title = clean_text(data.title, field="title", max_length=200, required=True)
    room.description = clean_text(data.description, field="description", max_length=4000, multiline=True)
    capacity = data.capacity
    if room.is_plenary:
        capacity = None  # everyone registered is in the plenary
    elif capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationError(_l("A capacity is between 1 and %(max)d people (or empty: no limit).",
                                 max=MAX_CAPACITY), field="capacity")
    elif capacity is not None and room.id is not None and (placed := _occupancy(room)) > capacity:
        raise ValidationError(_l("%(num)d people are in this room already: move some first.", num=placed),
                              field="capacity")
    room.capacity = capacity


def add_room(actor: User, event: Event, data: RoomInput) -> Room:
    _require_edit(actor, event)
    _require_not_ended(event)
    if len(event.breakout_rooms) >= MAX_ROOMS:
        raise ValidationError(_l("An event has at most %(max)d breakout rooms.", max=MAX_ROOMS))
    room = Room(position=len(event.rooms), phase=RoomPhase.NOT_STARTED)
    _apply_room(room, data)
    event.rooms.append(room)
    db.session.flush()
    return room


def update_room(actor: User, room: Room, data: RoomInput) -> None:
    _require_edit(actor, room.event)
    _require_not_ended(room.event)
    _apply_room(room, data)
    db.session.flush()


def remove_room(actor: User, room: Room) -> None:
    """Only a room nobody has written in: a discussion is never thrown away with its room."""
    event = room.event
    _require_edit(actor, event)
    _require_not_ended(event)
    if room.is_plenary:
        raise ValidationError(_l("The plenary cannot be removed."))
    if db.session.scalar(select(Post.id).where(Post.room_id == room.id).limit(1)) is not None:
        raise Conflict(_l("People have written in this room: it can no longer be removed."))
    for member in db.session.scalars(select(EventMember).where(EventMember.room_id == room.id)):
        member.room_id = None
    event.rooms.remove(room)
    db.session.flush()
    # One at a time, upwards, so that (event, position) stays unique at every step.
    for position, each in enumerate(event.rooms):
        if each.position != position:
            each.position = position
            db.session.flush()


def appoint_moderator(actor: User, room: Room, email: str) -> Moderator:
    """Make an existing account a co-moderator of a breakout room. A co-moderator steers the
    room rather than taking part in it, so a participant placed there leaves it."""
    _require_edit(actor, room.event)
    _require_not_ended(room.event)
    if room.is_plenary:
        raise ValidationError(_l("The organisers moderate the plenary."), field="email")
    email = clean_text(email, field="email", max_length=254, required=True)
    user = find_user_by_email(email)
    if user is None:
        raise ValidationError(_l("No account uses this email address. Ask the person to register first."),
                              field="email")
    existing = next((m for m in room.moderators if m.user_id == user.id), None)
    if existing is not None:
        return existing
    if len(room.moderators) >= MAX_MODERATORS:
        raise ValidationError(_l("A room has at most %(max)d co-moderators.", max=MAX_MODERATORS), field="email")
    moderator = Moderator(user=user)
    room.moderators.append(moderator)
    member = permissions.membership(user, room.event)
    if member is not None and member.room_id == room.id:
        member.room_id = None
    db.session.flush()
    return moderator


def remove_moderator(actor: User, moderator: Moderator) -> None:
    room = moderator.room
    _require_edit(actor, room.event)
    _require_not_ended(room.event)
    room.moderators.remove(moderator)
    db.session.flush()
    # Their open sockets still listen to the room and its moderators' channel: everyone there
    # is asked to join again, which refuses them now.
    for stream in (events.room_stream(room), events.moderators_stream(room)):
        events.reauthorise_stream_after_commit(stream)


def moderator_of(room: Room, moderator_id: int) -> Moderator:
    moderator = next((m for m in room.moderators if m.id == moderator_id), None)
    if moderator is None:
        raise NotFound()
    return moderator


# --- Registration and placement -------------------------------------------------------

def _person(user: User) -> assignment.Person:
    return assignment.Person(key=user.id, country=user.country, organisation_type=user.organisation_type)


def _placed(event: Event) -> list[EventMember]:
    """Participants already in a breakout room, with their accounts."""
    return list(db.session.scalars(
        select(EventMember).options(joinedload(EventMember.user))
        .where(EventMember.event_id == event.id, EventMember.role == MemberRole.PARTICIPANT,
               EventMember.room_id.is_not(None))))


def _occupants(event: Event) -> dict[int, list[assignment.Person]]:
    occupants: dict[int, list[assignment.Person]] = {room.id: [] for room in event.breakout_rooms}
    for member in _placed(event):
        if member.room_id in occupants:
            occupants[member.room_id].append(_person(member.user))
    return occupants


def _occupancy(room: Room, excluding: EventMember | None = None) -> int:
    query = select(func.count(EventMember.id)).where(
        EventMember.room_id == room.id, EventMember.role == MemberRole.PARTICIPANT)
    if excluding is not None:
        query = query.where(EventMember.id != excluding.id)
    return db.session.scalar(query)


def open_rooms(event: Event) -> list[Room]:
    """The breakout rooms people may be placed in now (not started or open; see
    `permissions.room_takes_newcomers`)."""
    return [room for room in event.breakout_rooms if permissions.room_takes_newcomers(room)]


def _slots(event: Event, user: User) -> list[assignment.RoomSlot]:
    # Never place someone in a room they co-moderate, nor in one wrapping up or closed.
    return [assignment.RoomSlot(key=room.id, capacity=room.capacity)
            for room in open_rooms(event) if not room.is_moderator(user)]


def _place_by_rule(member: EventMember) -> None:
    """Balanced events place a newcomer at once by the same rule as the whole assignment;
    self-select and manual events leave them unassigned (they choose, or are placed)."""
    event = member.event
    if member.role is not MemberRole.PARTICIPANT or event.assignment_mode is not AssignmentMode.BALANCED:
        return
    slots = _slots(event, member.user)
    occupants = {key: people for key, people in _occupants(event).items() if key in {s.key for s in slots}}
    try:
        member.room_id = assignment.place_late_arrival(_person(member.user), slots, occupants)
    except assignment.NoRoomAvailable:
        # Every open room is full, or none is open (all wrapping up or closed, or none yet):
        # they take part in the plenary, and the people page shows them as not placed.
        return
    db.session.flush()
    notifications.placed(None, [(member.user_id, member.room_id)])


def _join(actor: User, event: Event, role: str) -> EventMember:
    try:
        member_role = MemberRole(role)
    except ValueError:
        raise ValidationError(_l("Choose to take part or to observe."), field="role") from None
    member = EventMember(event=event, user=actor, role=member_role)
    db.session.add(member)
    db.session.flush()
    _place_by_rule(member)
    notifications.registered(member)
    return member


def register(actor: User, event: Event, role: str = MemberRole.PARTICIPANT.value) -> EventMember:
    if not permissions.can_register(actor, event):
        if permissions.membership(actor, event) is not None:
            raise Conflict(_l("You are registered for this event already."))
        raise PermissionDenied(_l("Registration for this event is not open."))
    return _join(actor, event, role)


def check_invitation(event: Event, token: str) -> None:
    """A wrong link answers like a missing event. Compared in constant time, so the token
    cannot be guessed one character at a time."""
    if not secrets.compare_digest(str(token).encode(), event.invite_token.encode()):
        raise NotFound()


def accept_invitation(actor: User, event: Event, token: str) -> EventMember:
    """Join through the organiser's link; following it again changes nothing."""
    check_invitation(event, token)
    existing = permissions.membership(actor, event)
    if existing is not None:
        return existing
    if not permissions.can_accept_invitation(actor, event):
        raise PermissionDenied(_l("This event has ended."))
    return _join(actor, event, MemberRole.PARTICIPANT.value)


def _lock(room: Room) -> None:
    # Two people taking the last place at once: PostgreSQL serialises them on the room row
    # (SQLite has one writer at a time anyway).
    db.session.execute(select(Room.id).where(Room.id == room.id).with_for_update())


def _check_capacity(room: Room, member: EventMember) -> None:
    _lock(room)
    if room.capacity is not None and _occupancy(room, excluding=member) >= room.capacity:
        raise Conflict(_l("This room is full. Choose another one."))


def choose_room(actor: User, room: Room) -> EventMember:
    """A participant of a self-select event picks (or changes) their breakout room."""
    if not permissions.may_choose_rooms(actor, room):
        raise PermissionDenied()
    if not permissions.room_takes_newcomers(room):
        raise Conflict(_l("This room is wrapping up or closed and takes no newcomers. Choose another one."))
    if room.is_moderator(actor):
        raise ValidationError(_l("You co-moderate this room."))
    member = permissions.membership(actor, room.event)
    if member.room_id != room.id:
        _check_capacity(room, member)
        previous = member.room_id
        member.room_id = room.id
        db.session.flush()
        if previous is not None:
            # As in assign_member: their sockets in the room they left must be refused there.
            events.reauthorise_stream_after_commit(events.room_stream(previous))
    return member


def _notify_moved(member: EventMember, room: Room | None) -> None:
    target = room if room is not None else member.event.plenary
    events.notify_user_after_commit(member.user_id, {
        "type": "member.moved", "room_id": target.id})


def assign_member(actor: User, member: EventMember, room: Room | None) -> None:
    """The organiser places or moves a person (None: back to unassigned)."""
    event = member.event
    _require_edit(actor, event)
    _require_not_ended(event)
    if room is not None:
        if room.event_id != event.id or room.is_plenary:
            raise ValidationError(_l("Choose one of this event's breakout rooms."), field="room_id")
        if member.role is not MemberRole.PARTICIPANT:
            raise ValidationError(_l("Observers read every room; they are not placed in one."), field="room_id")
        if room.is_moderator(member.user):
            raise ValidationError(_l("This person co-moderates that room."), field="room_id")
    previous = member.room_id
    if previous == (room.id if room else None):
        return
    if room is not None:
        _check_capacity(room, member)
    member.room_id = room.id if room else None
    db.session.flush()
    audit.log(actor, "member.moved", room=room, event=event, target_user=member.user,
              from_room_id=previous, to_room_id=member.room_id)
    data = {"user_id": member.user_id, "from_room_id": previous, "to_room_id": member.room_id}
    for room_id in {previous, member.room_id} - {None}:
        events.record_data(events.room_stream(room_id), "member.moved", data)
    if previous is not None:
        # Whoever is connected to the room they left is asked to join again, and refused.
        events.reauthorise_stream_after_commit(events.room_stream(previous))
    _notify_moved(member, room)
    if room is not None:
        notifications.placed(actor, [(member.user_id, room.id)])


def run_balanced_assignment(actor: User, event: Event) -> dict[int, int]:
    """Place every unassigned participant, leaving those already placed where they are.
    Returns user id -> room id of the people placed. People who co-moderate a room of the
    event are left out (the pure rule cannot exclude one room for one person); rooms wrapping
    up or closed receive nobody."""
    _require_edit(actor, event)
    _require_not_ended(event)
    moderator_ids = {m.user_id for room in event.breakout_rooms for m in room.moderators}
    waiting = list(db.session.scalars(
        select(EventMember).options(joinedload(EventMember.user))
        .where(EventMember.event_id == event.id, EventMember.role == MemberRole.PARTICIPANT,
               EventMember.room_id.is_(None))))
    waiting = [m for m in waiting if m.user_id not in moderator_ids]
    if not waiting:
        return {}
    if not event.breakout_rooms:
        raise ValidationError(_l("Add breakout rooms first."))
    if not open_rooms(event):
        raise ValidationError(_l("Every breakout room is wrapping up or closed: nobody can be placed in one now."))
    slots = [assignment.RoomSlot(key=room.id, capacity=room.capacity) for room in open_rooms(event)]
    try:
        occupants = {key: people for key, people in _occupants(event).items() if key in {s.key for s in slots}}
        placed = assignment.balanced_assignment([_person(m.user) for m in waiting], slots, occupants)
    except assignment.NoRoomAvailable as error:
        raise ValidationError(_l("The rooms have %(available)d free places for %(needed)d people: "
                                 "raise their capacities or add a room.",
                                 available=error.available, needed=error.needed)) from None
    rooms_by_id = {room.id: room for room in event.breakout_rooms}
    for member in waiting:
        member.room_id = placed[member.user_id]
        _notify_moved(member, rooms_by_id[member.room_id])
    db.session.flush()
    audit.log(actor, "member.moved", event=event, automatic=True, count=len(placed))
    notifications.placed(actor, [(member.user_id, member.room_id) for member in waiting])
    return placed


# --- Reading ------------------------------------------------------------------------

def list_events(viewer, *, offset: int = 0, limit: int | None = None) -> list[Event]:
    """Published and ended events for everyone; drafts too for their organisers and co-moderators
    (`limit` of them from `offset`, for a page)."""
    visible = [Event.status != EventStatus.DRAFT]
    if viewer is not None and viewer.is_authenticated:
        if viewer.is_admin:
            visible = []
        else:
            moderated = (select(Room.event_id).join(Moderator, Moderator.room_id == Room.id)
                         .where(Moderator.user_id == viewer.id))
            visible = [or_(Event.status != EventStatus.DRAFT, Event.owner_id == viewer.id,
                           Event.id.in_(moderated))]
    return list(db.session.scalars(
        select(Event).where(*visible).options(selectinload(Event.rooms))
        .order_by(Event.starts_at, Event.id).offset(offset).limit(limit)))


def when(event: Event, now: datetime | None = None) -> str:
    """'upcoming', 'live' or 'past', for grouping the list."""
    now = now or utcnow()
    if event.status is EventStatus.ENDED or event.ends_at <= now:
        return "past"
    return "live" if event.starts_at <= now else "upcoming"


def members(actor: User, event: Event) -> list[EventMember]:
    _require_edit(actor, event)
    return sorted(db.session.scalars(
        select(EventMember).options(joinedload(EventMember.user), joinedload(EventMember.room))
        .where(EventMember.event_id == event.id)),
        key=lambda m: (m.user.display_name.casefold(), m.id))


def member_of(event: Event, member_id: int) -> EventMember:
    member = db.session.get(EventMember, member_id) if permissions.valid_id(member_id) else None
    if member is None or member.event_id != event.id:
        raise NotFound()
    return member


@dataclass
class RoomFigures:
    room: Room | None  # None: not yet placed
    total: int = 0
    countries: Counter = field(default_factory=Counter)
    organisation_types: Counter = field(default_factory=Counter)


@dataclass
class Participation:
    rooms: list[RoomFigures]        # breakout rooms in order, then the unassigned
    countries: list[str]            # every country present, most represented first
    organisation_types: list[str]
    observers: int


def participation(event: Event) -> Participation:
    """Participants per room by country and organisation type, so the organiser sees the mix."""
    figures = {room.id: RoomFigures(room) for room in event.breakout_rooms}
    unassigned = RoomFigures(None)
    countries: Counter = Counter()
    org_types: Counter = Counter()
    observers = 0
    rows = db.session.execute(
        select(EventMember.room_id, EventMember.role, User.country, User.organisation_type)
        .join(User, User.id == EventMember.user_id).where(EventMember.event_id == event.id)).all()
    for room_id, role, country, org_type in rows:
        if role is not MemberRole.PARTICIPANT:
            observers += 1
            continue
        bucket = figures.get(room_id, unassigned)
        bucket.total += 1
        bucket.countries[country] += 1
        bucket.organisation_types[org_type] += 1
        countries[country] += 1
        org_types[org_type] += 1
    order = lambda counter: [key for key, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]  # noqa: E731
    return Participation(list(figures.values()) + [unassigned], order(countries), order(org_types), observers)
