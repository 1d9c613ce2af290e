"""People: a person's page (who they are, what they wrote that the viewer may read) and the
people a composer suggests after "@" (docs/mentions.md)."""
from __future__ import annotations

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Post, PostStatus, Room, User
from forum.services.errors import NotFound
from forum.services.mentions import HANDLE_MAX, HANDLE_RE

CONTRIBUTIONS_SHOWN = 20
# A person's posts are read newest first, a batch at a time, each kept if the viewer may
# read it (permissions.can_read_post, the one rule); at most this many are looked at, so a
# page about someone who wrote much where the viewer may not read stays quick.
CONTRIBUTIONS_SCANNED = 400
_BATCH = 50
MENTIONABLE_MAX = 8
QUERY_MAX = HANDLE_MAX


def find_person(viewer, key: str) -> User:
    """The person a /people/ address names: by id (digits; handles always hold a letter) or
    by handle, in any case. "Not found" for no one, and for a viewer who may not see people's
    pages (permissions.can_view_profile: the web layer asks visitors to log in first)."""
    person = None
    if key.isdigit():
        if len(key) <= 10 and permissions.valid_id(int(key)):
            person = db.session.get(User, int(key))
    elif HANDLE_RE.match(key.lower()):
        person = db.session.scalar(select(User).where(User.handle == key.lower()))
    if person is None or not permissions.can_view_profile(viewer, person):
        raise NotFound()
    return person


def recent_contributions(viewer, person: User, limit: int = CONTRIBUTIONS_SHOWN) -> list[Post]:
    """The person's latest published posts and room messages the viewer may read: never a
    hidden, pending, rejected or deleted one, nor the moderators' channel, whoever looks."""
    shown: list[Post] = []
    query = (select(Post)
             .options(joinedload(Post.consultation).selectinload(Consultation.hosts), joinedload(Post.topic),
                      joinedload(Post.room).joinedload(Room.event), joinedload(Post.room).selectinload(Room.moderators))
             .where(Post.author_id == person.id, Post.status == PostStatus.PUBLISHED,
                    Post.deleted_at.is_(None), Post.hidden_at.is_(None), Post.backchannel.is_(False))
             .order_by(Post.created_at.desc(), Post.id.desc()))
    for offset in range(0, CONTRIBUTIONS_SCANNED, _BATCH):
        batch = db.session.scalars(query.limit(_BATCH).offset(offset)).unique().all()
        shown += [post for post in batch if permissions.can_read_post(viewer, post)]
        if len(shown) >= limit or len(batch) < _BATCH:
            break
    return shown[:limit]


def mentionable(viewer, place: Consultation | Room, query: str) -> list[User]:
    """Up to MENTIONABLE_MAX people who may read `place` whose handle, or a word of whose
    name, starts with `query` (an "@" before it is ignored), handles first; never the viewer.
    "Not found" if the viewer may not read the place: its readers are no one else's to list."""
    if not permissions.can_read_place(viewer, place):
        raise NotFound()
    text = query.strip().removeprefix("@").lower()
    if not text:
        return []
    name = func.lower(User.display_name)
    by_handle = User.handle.startswith(text, autoescape=True)
    matches = or_(by_handle, name.startswith(text, autoescape=True), name.contains(" " + text, autoescape=True))
    return list(db.session.scalars(
        select(User).where(permissions.readers_of(place), User.id != viewer.id, User.closed_at.is_(None), matches)
        .order_by(case((by_handle, 0), else_=1), User.display_name, User.id)
        .limit(MENTIONABLE_MAX)))

