"""The moderation log: every moderation action and room setting change, with who, when and
why. Services call `log` in the transaction of the change itself, so the log holds exactly
what happened; the model refuses updates and deletions."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Event, ModerationAction, Post, Room, User
from forum.services.errors import PermissionDenied

LOG_PAGE_SIZE = 100


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
    )
    db.session.add(entry)
    return entry


def entries(actor: User, scope: Event | Consultation, *, before: int | None = None,
            limit: int = LOG_PAGE_SIZE) -> list[ModerationAction]:
    """The newest lines of an event's or consultation's log (older ones: pass `before`, an id)."""
    if not permissions.can_view_moderation_log(actor, scope):
        raise PermissionDenied()
    column = ModerationAction.event_id if isinstance(scope, Event) else ModerationAction.consultation_id
    query = (select(ModerationAction).where(column == scope.id)
             .options(joinedload(ModerationAction.actor), joinedload(ModerationAction.target_user),
                      joinedload(ModerationAction.room))
             .order_by(ModerationAction.id.desc()).limit(limit))
    if before is not None:
        query = query.where(ModerationAction.id < before)
    return list(db.session.scalars(query))
