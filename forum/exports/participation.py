"""Who took part in an event, counted in SQL: registered, attended and active people, overall,
by country and type of organisation, and per breakout room (its participant mix).

- **Registered**: the event's members (participants and observers: `EventMember`).
- **Attended**: registered people who came into one of its rooms while it was running
  (`EventMember.attended_at`, forum/services/rooms.py `record_attendance`), or who wrote in it.
- **Active**: registered people who wrote at least one message the report counts (published,
  not hidden, not deleted, not in the moderators' back-channel) in one of its rooms.
- Per room: **placed** are the members placed in the room (`EventMember.room_id`), **active**
  the members who wrote such a message in that room (wherever they were placed: the plenary
  has everyone's messages and nobody placed in it).

Every figure is one grouped statement, whatever the size of the event; the report reads a few
dozen rows, never the posts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, select

from forum.extensions import db
from forum.i18n import label
from forum.models import Event, EventMember, Post, PostStatus, Room, User


@dataclass
class Counts:
    registered: int = 0
    attended: int = 0
    active: int = 0


@dataclass
class CountsRow:
    label: str
    counts: Counts


@dataclass
class MixRow:
    label: str
    placed: int
    active: int


@dataclass
class RoomMix:
    """A room's participant mix: members placed in it and members who wrote in it."""
    placed: int = 0
    active: int = 0
    by_organisation_type: list[MixRow] = field(default_factory=list)
    by_country: list[MixRow] = field(default_factory=list)


@dataclass
class Attendance:
    totals: Counts
    by_country: list[CountsRow]
    by_organisation_type: list[CountsRow]


def counted(column, places):
    """The posts a report counts (published, neither hidden nor deleted, not in a back-channel)
    whose `column` (Post.room_id or Post.topic_id) is among `places` (ids, or a subquery)."""
    return and_(column.in_(places), Post.status == PostStatus.PUBLISHED, Post.backchannel.is_(False),
                Post.hidden_at.is_(None), Post.deleted_at.is_(None))


def _in_event(event: Event):
    return counted(Post.room_id, select(Room.id).where(Room.event_id == event.id))


def attendance(event: Event) -> Attendance:
    wrote = exists(select(Post.id).where(Post.author_id == EventMember.user_id, _in_event(event)))
    active = case((wrote, 1), else_=0)
    attended = case((EventMember.attended_at.is_not(None) | wrote, 1), else_=0)
    columns = (func.count(), func.coalesce(func.sum(attended), 0), func.coalesce(func.sum(active), 0))

    def query(*grouping):
        return (select(*grouping, *columns).select_from(EventMember).join(User, User.id == EventMember.user_id)
                .where(EventMember.event_id == event.id).group_by(*grouping))

    def by(column, kind: str) -> list[CountsRow]:
        rows = [CountsRow(label(kind, code) if code else "", Counts(*(int(n) for n in counts)))
                for code, *counts in db.session.execute(query(column))]
        return sorted(rows, key=lambda r: (-r.counts.registered, -r.counts.active, r.label))

    totals = Counts(*(int(n) for n in db.session.execute(query()).one()))
    return Attendance(totals, by(User.country, "country"), by(User.organisation_type, "organisation_type"))


def room_mixes(event: Event) -> dict[int, RoomMix]:
    """Each room's mix (by room id), from two grouped statements per grouping."""
    members = select(EventMember.user_id).where(EventMember.event_id == event.id)
    mixes: dict[int, RoomMix] = defaultdict(RoomMix)
    for column, kind, attribute in ((User.organisation_type, "organisation_type", "by_organisation_type"),
                                    (User.country, "country", "by_country")):
        placed = db.session.execute(
            select(EventMember.room_id, column, func.count()).join(User, User.id == EventMember.user_id)
            .where(EventMember.event_id == event.id, EventMember.room_id.is_not(None))
            .group_by(EventMember.room_id, column)).all()
        active = db.session.execute(
            select(Post.room_id, column, func.count(func.distinct(Post.author_id)))
            .join(User, User.id == Post.author_id)
            .where(_in_event(event), Post.author_id.in_(members))
            .group_by(Post.room_id, column)).all()
        table: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for room_id, code, count in placed:
            table[room_id][code][0] = count
        for room_id, code, count in active:
            table[room_id][code][1] = count
        for room_id, codes in table.items():
            rows = [MixRow(label(kind, code) if code else "", placed_n, active_n)
                    for code, (placed_n, active_n) in codes.items()]
            setattr(mixes[room_id], attribute, sorted(rows, key=lambda r: (-r.placed, -r.active, r.label)))
            if attribute == "by_organisation_type":
                mixes[room_id].placed = sum(r.placed for r in rows)
                mixes[room_id].active = sum(r.active for r in rows)
    return dict(mixes)
