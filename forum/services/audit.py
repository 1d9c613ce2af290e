"""The moderation log: every moderation action and room setting change, with who, when and
why. Services call `log` in the transaction of the change itself, so the log holds exactly
what happened; the model refuses updates and deletions."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Event, ModerationAction, Post, Room, User
from forum.models.base import utcnow
from forum.services.errors import PermissionDenied

LOG_PAGE_SIZE = 100

# What each line of the log says, in the reader's language.
ACTION_LABELS = {
    "post.hidden": _l("hid a post"),
    "post.restored": _l("restored a hidden post"),
    "post.pinned": _l("pinned a post"),
    "post.unpinned": _l("unpinned a post"),
    "post.moved": _l("moved a thread"),
    "post.approved": _l("approved a message"),
    "post.rejected": _l("rejected a message"),
    "thread.locked": _l("locked a thread"),
    "thread.unlocked": _l("unlocked a thread"),
    "room.locked": _l("locked the room"),
    "room.unlocked": _l("unlocked the room"),
    "room.phase": _l("changed the room's phase"),
    "room.slow_mode": _l("changed slow mode"),
    "room.premoderation": _l("changed pre-moderation"),
    "user.muted": _l("muted a participant"),
    "user.unmuted": _l("unmuted a participant"),
    "flag.dismissed": _l("dismissed reports"),
    "floor.given": _l("gave the floor"),
    "speak.invited": _l("invited someone to speak"),
    "event.broadcast": _l("sent a message to every room"),
    "event.recall": _l("called everyone back to the plenary"),
    "member.moved": _l("moved a participant to another room"),
    "takeaway.promoted": _l("made a message a key takeaway"),
    "statement.approved": _l("approved a statement"),
    "statement.rejected": _l("rejected a statement"),
    "statement.hidden": _l("hid a statement"),
    "poll.opened": _l("opened a poll"),
    "poll.closed": _l("closed a poll"),
    "poll.breakdown_published": _l("published a poll's breakdown"),
    "poll.deleted": _l("deleted a draft poll"),
    "question.approved": _l("approved a question to the plenary"),
    "question.dismissed": _l("dismissed a question to the plenary"),
    "question.answered": _l("marked a question to the plenary answered"),
    "question.reopened": _l("reopened an answered question to the plenary"),
    "room.questions_premoderation": _l("changed pre-moderation of questions"),
    "export.made": _l("exported a report or data"),
    "report.cover": _l("edited the report's summary and next steps"),
    "account.closed": _l("closed an account"),
}


def log(actor: User, action: str, *, room: Room | None = None, post: Post | None = None,
        event: Event | None = None, consultation: Consultation | None = None,
        target_user: User | None = None, reason: str = "", **details: Any) -> ModerationAction:
    """Append one line. The event or consultation is found from the room or post if not given."""
    if post is not None and room is None and post.room_id is not None:
        room = post.room
    if room is not None and event is None:
        event = room.event
    if post is not None and consultation is None and post.consultation_id is not None:
        consultation = post.consultation
    entry = ModerationAction(
        actor_id=actor.id, action=action, room_id=room.id if room else None,
        event_id=event.id if event else None, consultation_id=consultation.id if consultation else None,
        post_id=post.id if post else None, target_user_id=target_user.id if target_user else None,
        reason=reason, details=details,
        # The moment of the action, not of whichever later flush writes the line.
        created_at=utcnow(),
    )
    db.session.add(entry)
    return entry


def entries(actor: User, scope: Event | Consultation, *, before: int | None = None,
            limit: int = LOG_PAGE_SIZE, room_id: int | None = None, actor_id: int | None = None,
            action: str | None = None) -> list[ModerationAction]:
    """The newest lines of an event's or consultation's log (older ones: pass `before`, an id),
    optionally only those about one room, by one person or of one kind of action."""
    if not permissions.can_view_moderation_log(actor, scope):
        raise PermissionDenied()
    query = (_in_scope(scope)
             .options(joinedload(ModerationAction.actor), joinedload(ModerationAction.target_user),
                      joinedload(ModerationAction.room))
             .order_by(ModerationAction.id.desc()).limit(limit))
    if before is not None:
        query = query.where(ModerationAction.id < before)
    if room_id is not None:
        query = query.where(ModerationAction.room_id == room_id)
    if actor_id is not None:
        query = query.where(ModerationAction.actor_id == actor_id)
    if action is not None:
        query = query.where(ModerationAction.action == action)
    return list(db.session.scalars(query))


def _in_scope(scope: Event | Consultation):
    column = ModerationAction.event_id if isinstance(scope, Event) else ModerationAction.consultation_id
    return select(ModerationAction).where(column == scope.id)


def actors(actor: User, scope: Event | Consultation) -> list[User]:
    """Everyone who appears in the log as having acted, by name (the log's filter offers them)."""
    if not permissions.can_view_moderation_log(actor, scope):
        raise PermissionDenied()
    ids = _in_scope(scope).with_only_columns(ModerationAction.actor_id).distinct()
    people = db.session.scalars(select(User).where(User.id.in_(ids)))
    return sorted(people, key=lambda user: (user.display_name.casefold(), user.id))
