"""Live events: a plenary and breakout rooms, their members and co-moderators."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.consultations import Topic
from forum.models.users import User


def _enum(cls):
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class EventStatus(str, enum.Enum):
    DRAFT = "draft"          # only its organisers see it
    PUBLISHED = "published"  # people can register; rooms run by their phases
    ENDED = "ended"          # read-only everywhere


class AssignmentMode(str, enum.Enum):
    SELF_SELECT = "self_select"  # participants choose a room, up to its capacity
    MANUAL = "manual"            # the organiser places each person
    BALANCED = "balanced"        # spread countries and organisation types evenly


class RoomPhase(str, enum.Enum):
    NOT_STARTED = "not_started"
    OPEN = "open"
    WRAP_UP = "wrap_up"
    CLOSED = "closed"


class MemberRole(str, enum.Enum):
    PARTICIPANT = "participant"
    OBSERVER = "observer"


# The names of the codes, shown through forum.i18n.label (never the codes themselves).
EVENT_STATUS_LABELS = {
    EventStatus.DRAFT: _l("Draft"),
    EventStatus.PUBLISHED: _l("Published"),
    EventStatus.ENDED: _l("Ended"),
}
ASSIGNMENT_LABELS = {
    AssignmentMode.SELF_SELECT: _l("Participants choose their room"),
    AssignmentMode.MANUAL: _l("The organiser assigns rooms"),
    AssignmentMode.BALANCED: _l("Automatic, balanced by country and organisation type"),
}
PHASE_LABELS = {
    RoomPhase.NOT_STARTED: _l("Not started"),
    RoomPhase.OPEN: _l("Open"),
    RoomPhase.WRAP_UP: _l("Wrap-up"),
    RoomPhase.CLOSED: _l("Closed"),
}
MEMBER_ROLE_LABELS = {
    MemberRole.PARTICIPANT: _l("Participant"),
    MemberRole.OBSERVER: _l("Observer"),
}


def new_invite_token() -> str:
    return secrets.token_urlsafe(18)


class Event(db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    agenda_html: Mapped[str] = mapped_column(Text, default="")
    speakers: Mapped[str] = mapped_column(Text, default="")  # one per line, as the organiser wrote them
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The zone the organiser plans in; readers see times in their own zone too.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.DRAFT)
    assignment_mode: Mapped[AssignmentMode] = mapped_column(
        _enum(AssignmentMode), default=AssignmentMode.BALANCED)
    # Anyone holding the invitation link may join, even before the event is published.
    invite_token: Mapped[str] = mapped_column(String(32), unique=True, default=new_invite_token)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()
    rooms: Mapped[list[Room]] = relationship(
        back_populates="event", order_by="Room.position", cascade="all, delete-orphan")

    @property
    def plenary(self) -> Room:
        return self.rooms[0]

    @property
    def breakout_rooms(self) -> list[Room]:
        return self.rooms[1:]

    @property
    def speaker_list(self) -> list[str]:
        return [line.strip() for line in self.speakers.splitlines() if line.strip()]


class Room(db.Model):
    """The plenary (position 0) or a breakout room (1, 2, ...). Each room is a stream."""

    __tablename__ = "room"
    __table_args__ = (
        UniqueConstraint("event_id", "position"),
        CheckConstraint("slow_mode_seconds >= 0", name="slow_mode_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None]
    phase: Mapped[RoomPhase] = mapped_column(_enum(RoomPhase), default=RoomPhase.NOT_STARTED)
    # While in wrap-up: when the room closes (everyone's countdown counts to this instant).
    wrap_up_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked: Mapped[bool] = mapped_column(default=False)
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    premoderated: Mapped[bool] = mapped_column(default=False)
    # The plenary's Q&A (forum/services/questions.py): participants' questions wait for a
    # moderator's approval. A room's setting, next to `premoderated`, rather than the event's:
    # questions belong to a room (the plenary), its moderators set its rules, and its
    # readers learn of the change on its stream like any other room setting.
    questions_premoderated: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship(back_populates="rooms")
    moderators: Mapped[list[Moderator]] = relationship(
        back_populates="room", order_by="Moderator.id", cascade="all, delete-orphan")

    @property
    def is_plenary(self) -> bool:
        return self.position == 0

    def is_moderator(self, user: User) -> bool:
        return any(m.user_id == user.id for m in self.moderators)


class EventMember(db.Model):
    """Someone registered for an event, and the breakout room they are in."""

    __tablename__ = "event_member"
    __table_args__ = (UniqueConstraint("event_id", "user_id"), Index("ix_event_member_room_id", "room_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole), default=MemberRole.PARTICIPANT)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="SET NULL"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The first time they came into a room of the event while it was running (rooms.record_attendance).
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    room: Mapped[Room | None] = relationship()


class Moderator(db.Model):
    """A co-moderator of one breakout room, or of one consultation topic."""

    __tablename__ = "moderator"
    __table_args__ = (
        UniqueConstraint("room_id", "user_id"),
        UniqueConstraint("topic_id", "user_id"),
        CheckConstraint("(room_id IS NULL) <> (topic_id IS NULL)", name="one_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="CASCADE"), index=True)

    # Shown with every room (names on its page, its report card): always loaded together.
    user: Mapped[User] = relationship(lazy="joined")
    room: Mapped[Room | None] = relationship(back_populates="moderators")
    topic: Mapped[Topic | None] = relationship()
