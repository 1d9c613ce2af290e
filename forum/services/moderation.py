"""Moderators' tools: hide, pin, lock, move and pre-moderate posts; lock, slow down and
pre-moderate rooms; mute people; handle readers' flags. The same rules hold in event rooms
and in consultations (`permissions.can_moderate_post` decides who moderates what).

Every action is enforced here, written to the moderation log (`audit.log`) in the same
transaction and announced live (`events`). Repeating an action that is already in effect
(hiding a hidden post, approving an approved one, ...) raises `Conflict`: two co-moderators
acting on the same post at once learn that the other was faster. Room settings are
different: setting a value the room already has changes nothing, logs nothing and returns
False, so that a form sent twice is harmless.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Flag, Moderator, Mute, Post, PostStatus, Room, Topic, User
from forum.models.base import utcnow
from forum.services import audit, events, notifications
from forum.services.errors import Conflict, PermissionDenied, ValidationError
from forum.services.text import clean_text

REASON_MAX = 500
SLOW_MODE_MAX_SECONDS = 3600
MUTE_MAX_MINUTES = 24 * 60


def _require_post(actor: User, post: Post) -> None:
    if not permissions.can_moderate_post(actor, post):
        raise PermissionDenied()


def _require_room(actor: User, room: Room) -> None:
    if not permissions.can_moderate_room(actor, room):
        raise PermissionDenied()


def _reason(value: str | None, *, required: bool = True) -> str:
    return clean_text(value, field="reason", max_length=REASON_MAX, required=required, multiline=True)


def _require_published(post: Post) -> None:
    if post.is_deleted:
        raise Conflict(_l("This post has been deleted."))
    if not post.is_published:
        raise Conflict(_l("This message is waiting for moderation or was rejected: approve or reject it instead."))


def _queue_stream(post: Post) -> str:
    """Where co-moderators watch a post's queue state: its room's moderators' stream (a
    consultation has no live queue, so its own stream)."""
    return events.moderators_stream(post.room_id) if post.room_id is not None else post.stream_key


def _notify_author(actor: User, post: Post, message: dict) -> None:
    if post.author_id != actor.id:
        events.notify_user_after_commit(post.author_id, message)


def _resolve_flags(actor: User, post: Post) -> int:
    """Close the post's open flags (hiding it answers them; dismissing them does too)."""
    return db.session.execute(
        update(Flag).where(Flag.post_id == post.id, Flag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=actor.id)
    ).rowcount


# --- Hiding --------------------------------------------------------------------------

def hide_post(actor: User, post: Post, reason: str) -> Post:
    """Hide a post: its author and the moderators still read it (with the reason), everyone
    else sees a placeholder. Its open flags are resolved. Already hidden: Conflict."""
    _require_post(actor, post)
    _require_published(post)
    if post.is_hidden:
        raise Conflict(_l("This post is already hidden."))
    reason = _reason(reason)
    post.hidden_at = utcnow()
    post.hidden_by_id = actor.id
    post.hidden_reason = reason
    db.session.flush()
    flags = _resolve_flags(actor, post)
    audit.log(actor, "post.hidden", post=post, target_user=post.author, reason=reason, flags_resolved=flags)
    events.record("post.hidden", post)
    _notify_author(actor, post, {"type": "post.hidden", "post_id": post.id, "reason": reason})
    notifications.moderated(actor, post, "post.hidden", reason)
    db.session.flush()
    return post


def restore_post(actor: User, post: Post) -> Post:
    _require_post(actor, post)
    if not post.is_hidden:
        raise Conflict(_l("This post is not hidden."))
    post.hidden_at = None
    post.hidden_by_id = None
    post.hidden_reason = ""
    db.session.flush()
    audit.log(actor, "post.restored", post=post, target_user=post.author)
    events.record("post.restored", post)
    _notify_author(actor, post, {"type": "post.restored", "post_id": post.id})
    notifications.moderated(actor, post, "post.restored")
    db.session.flush()
    return post


# --- Pinning and locking ---------------------------------------------------------------

def pin_post(actor: User, post: Post) -> Post:
    _require_post(actor, post)
    _require_published(post)
    if post.is_hidden:
        raise Conflict(_l("A hidden post cannot be pinned: restore it first."))
    if post.pinned_at is not None:
        raise Conflict(_l("This post is already pinned."))
    post.pinned_at = utcnow()
    return _post_changed(actor, post, "post.pinned", "post.pinned")


def unpin_post(actor: User, post: Post) -> Post:
    _require_post(actor, post)
    if post.pinned_at is None:
        raise Conflict(_l("This post is not pinned."))
    post.pinned_at = None
    return _post_changed(actor, post, "post.unpinned", "post.unpinned")


def _require_thread_start(post: Post) -> None:
    if post.parent_id is not None:
        raise ValidationError(_l("Only a whole thread can be locked: lock the post that starts it."))


def lock_thread(actor: User, post: Post) -> Post:
    """No more replies in this thread, except from moderators (`permissions.can_reply`)."""
    _require_post(actor, post)
    _require_thread_start(post)
    if post.locked_at is not None:
        raise Conflict(_l("This thread is already locked."))
    post.locked_at = utcnow()
    return _post_changed(actor, post, "thread.locked", "post.locked")


def unlock_thread(actor: User, post: Post) -> Post:
    _require_post(actor, post)
    _require_thread_start(post)
    if post.locked_at is None:
        raise Conflict(_l("This thread is not locked."))
    post.locked_at = None
    return _post_changed(actor, post, "thread.unlocked", "post.unlocked")


def _post_changed(actor: User, post: Post, action: str, kind: str) -> Post:
    db.session.flush()
    audit.log(actor, action, post=post, target_user=post.author)
    events.record(kind, post)
    notifications.moderated(actor, post, action)  # its author hears of a lock (not of a pin)
    db.session.flush()
    return post


# --- Room settings ----------------------------------------------------------------------

def set_room_lock(actor: User, room: Room, locked: bool) -> bool:
    """Lock a room (only its moderators may post) or open it again. Returns whether it changed."""
    _require_room(actor, room)
    if room.locked == bool(locked):
        return False
    room.locked = bool(locked)
    _room_changed(actor, room, "room.locked" if locked else "room.unlocked")
    return True


def set_slow_mode(actor: User, room: Room, seconds: int) -> bool:
    """One message per `seconds` per participant (0: off). Moderators are not slowed."""
    _require_room(actor, room)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= SLOW_MODE_MAX_SECONDS:
        raise ValidationError(_l("Slow mode takes a number of seconds from 0 (off) to %(max)d.",
                                 max=SLOW_MODE_MAX_SECONDS), field="slow_mode_seconds")
    if room.slow_mode_seconds == seconds:
        return False
    previous = room.slow_mode_seconds
    room.slow_mode_seconds = seconds
    _room_changed(actor, room, "room.slow_mode", seconds=seconds, previous=previous)
    return True


def set_premoderation(actor: User, room: Room, on: bool) -> bool:
    """Participants' messages wait for a moderator's approval while this is on.

    Turning it off publishes nothing: messages already waiting stay in the queue until a
    moderator approves or rejects them (publishing them all at once could flood the room
    with messages nobody has read)."""
    _require_room(actor, room)
    if room.premoderated == bool(on):
        return False
    room.premoderated = bool(on)
    _room_changed(actor, room, "room.premoderation", on=bool(on))
    return True


def _room_changed(actor: User, room: Room, action: str, **details) -> None:
    db.session.flush()
    audit.log(actor, action, room=room, **details)
    events.announce_room_state(room)


# --- Pre-moderation ---------------------------------------------------------------------

def _require_pending(post: Post) -> None:
    if post.status is not PostStatus.PENDING or post.is_deleted:
        raise Conflict(_l("This message is no longer waiting for moderation."))


def approve_post(actor: User, post: Post) -> Post:
    """Publish a waiting message: the room sees it now, other co-moderators' queues drop it."""
    _require_post(actor, post)
    _require_pending(post)
    queue_stream = _queue_stream(post)
    post.status = PostStatus.PUBLISHED
    db.session.flush()
    audit.log(actor, "post.approved", post=post, target_user=post.author)
    events.record("post.created", post)
    events.record("post.approved", post, stream_key=queue_stream)
    _notify_author(actor, post, {"type": "post.approved", "post_id": post.id})
    notifications.moderated(actor, post, "post.approved")
    notifications.post_published(post)
    db.session.flush()
    return post


def reject_post(actor: User, post: Post, reason: str) -> Post:
    """Refuse a waiting message; its author sees it and the reason, nobody else but moderators."""
    _require_post(actor, post)
    _require_pending(post)
    reason = _reason(reason)
    post.status = PostStatus.REJECTED
    post.rejected_reason = reason
    db.session.flush()
    audit.log(actor, "post.rejected", post=post, target_user=post.author, reason=reason)
    events.record("post.rejected", post, stream_key=_queue_stream(post))
    _notify_author(actor, post, {"type": "post.rejected", "post_id": post.id, "reason": reason})
    notifications.moderated(actor, post, "post.rejected", reason)
    db.session.flush()
    return post


# --- Muting -------------------------------------------------------------------------------

def _active_mutes(room: Room, user: User) -> list[Mute]:
    return list(db.session.scalars(select(Mute).where(
        Mute.room_id == room.id, Mute.user_id == user.id, Mute.until > utcnow())))


def mute_user(actor: User, room: Room, user: User, minutes: int, reason: str = "") -> Mute:
    """Keep a participant from posting in a room for `minutes`. Muting someone already muted
    replaces the remaining time with the new one."""
    _require_room(actor, room)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MUTE_MAX_MINUTES:
        raise ValidationError(_l("Mute someone for 1 to %(max)d minutes.", max=MUTE_MAX_MINUTES), field="minutes")
    if permissions.can_moderate_room(user, room):
        raise ValidationError(_l("A moderator of this room cannot be muted in it."), field="user_id")
    if permissions.membership(user, room.event) is None:
        raise ValidationError(_l("This person is not registered for this event."), field="user_id")
    reason = _reason(reason, required=False)
    now = utcnow()
    for mute in _active_mutes(room, user):
        mute.until = now
    mute = Mute(room_id=room.id, user_id=user.id, until=now + timedelta(minutes=minutes),
                reason=reason, created_by_id=actor.id)
    db.session.add(mute)
    db.session.flush()
    until = mute.until.isoformat()
    audit.log(actor, "user.muted", room=room, target_user=user, reason=reason, minutes=minutes, until=until)
    events.record_data(events.moderators_stream(room), "member.muted",
                       {"room_id": room.id, "user_id": user.id, "until": until, "reason": reason})
    events.notify_user_after_commit(user.id, {"type": "user.muted", "room_id": room.id,
                                              "until": until, "reason": reason})
    return mute


def unmute_user(actor: User, room: Room, user: User) -> None:
    _require_room(actor, room)
    mutes = _active_mutes(room, user)
    if not mutes:
        raise Conflict(_l("This person is not muted in this room."))
    now = utcnow()
    for mute in mutes:
        mute.until = now
    db.session.flush()
    audit.log(actor, "user.unmuted", room=room, target_user=user)
    events.record_data(events.moderators_stream(room), "member.unmuted", {"room_id": room.id, "user_id": user.id})
    events.notify_user_after_commit(user.id, {"type": "user.unmuted", "room_id": room.id})


# --- Moving -------------------------------------------------------------------------------

def move_post(actor: User, post: Post, *, topic: Topic | None = None, room: Room | None = None) -> Post:
    """Move a thread (a response and its replies) to another topic of its consultation, or a
    room message and its replies to another room of its event. Readers of the old place
    see it go ("post.moved"), readers of the new place see it arrive ("post.created")."""
    _require_post(actor, post)
    if post.parent_id is not None:
        raise ValidationError(_l("Only a whole thread can be moved: move the post that starts it."))
    if post.room_id is None:
        if topic is None or room is not None:
            raise ValidationError(_l("Choose a topic of this consultation."), field="destination")
        if topic.consultation_id != post.consultation_id:
            raise ValidationError(_l("Choose a topic of this consultation."), field="destination")
        if topic.id == post.topic_id:
            raise ValidationError(_l("This thread is already in that topic."), field="destination")
        if not permissions.is_consultation_moderator(actor, post.consultation, topic):
            raise PermissionDenied()
        source, destination = post.topic_id, topic.id
    else:
        if room is None or topic is not None:
            raise ValidationError(_l("Choose another room of this event."), field="destination")
        if post.backchannel:
            raise ValidationError(_l("Messages of the moderators' back-channel cannot be moved."))
        if room.event_id != post.room.event_id:
            raise ValidationError(_l("Choose another room of this event."), field="destination")
        if room.id == post.room_id:
            raise ValidationError(_l("This message is already in that room."), field="destination")
        if not permissions.can_moderate_room(actor, room):
            raise PermissionDenied()
        source, destination = post.room_id, room.id
    source_room = post.room
    thread = list(db.session.scalars(
        select(Post).where(Post.thread_id == post.id).order_by(Post.created_at, Post.id)))
    # A waiting message lives in its room's moderators' stream; a rejected one in none.
    announced = [p for p in thread if p.status is not PostStatus.REJECTED]
    old_streams = {p.id: p.stream_key if p.is_published else _queue_stream(p) for p in announced}
    for p in thread:
        if room is not None:
            p.room = room
        else:
            p.topic = topic
    db.session.flush()
    audit.log(actor, "post.moved", post=post, room=source_room, target_user=post.author,
              **{"scope": "room" if room is not None else "topic", "from": source, "to": destination})
    for p in announced:
        events.record("post.moved", p, stream_key=old_streams[p.id])
        events.record("post.created" if p.is_published else "post.pending", p)
    notifications.moderated(actor, post, "post.moved")
    db.session.flush()
    return post


# --- Flags --------------------------------------------------------------------------------

def flag_post(actor: User, post: Post, reason: str) -> Flag:
    """A reader reports a post to its moderators. Once per person and post."""
    if not permissions.can_flag(actor, post):
        raise PermissionDenied()
    reason = _reason(reason)
    if _flag_of(actor, post) is not None:
        raise Conflict(_l("You have already reported this post; its moderators have your report."))
    flag = Flag(post_id=post.id, user_id=actor.id, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(flag)
    except IntegrityError:  # the same report sent twice at the same moment
        raise Conflict(_l("You have already reported this post; its moderators have your report.")) from None
    if post.room_id is not None:
        open_flags = db.session.scalar(select(func.count(Flag.id)).where(
            Flag.post_id == post.id, Flag.resolved_at.is_(None)))
        events.record_data(events.moderators_stream(post.room_id), "flag.created", {
            "flag_id": flag.id, "post_id": post.id, "reason": reason, "flag_count": open_flags})
    return flag


def _flag_of(user: User, post: Post) -> Flag | None:
    return db.session.scalar(select(Flag).where(Flag.post_id == post.id, Flag.user_id == user.id))


def has_flagged(user: User, post: Post) -> bool:
    return user is not None and user.is_authenticated and _flag_of(user, post) is not None


def dismiss_flags(actor: User, post: Post) -> int:
    """Close the post's open flags without acting on the post. Returns how many."""
    _require_post(actor, post)
    resolved = _resolve_flags(actor, post)
    if not resolved:
        raise Conflict(_l("This post has no open reports."))
    audit.log(actor, "flag.dismissed", post=post, target_user=post.author, flags=resolved)
    if post.room_id is not None:  # the other co-moderators' queues drop it
        events.record_data(events.moderators_stream(post.room_id), "flag.dismissed", {"post_id": post.id})
    db.session.flush()
    return resolved


# --- Queues -------------------------------------------------------------------------------

@dataclass
class FlaggedPost:
    post: Post
    flags: list[Flag] = field(default_factory=list)


@dataclass
class ModerationQueue:
    pending: list[Post]        # waiting for approval, oldest first
    flagged: list[FlaggedPost]  # with open flags, the longest-waiting report first


def queue(actor: User, room: Room) -> ModerationQueue:
    """A room's queue: its waiting messages and its reported ones (two queries)."""
    _require_room(actor, room)
    pending = list(db.session.scalars(
        select(Post).options(joinedload(Post.author))
        .where(Post.room_id == room.id, Post.status == PostStatus.PENDING, Post.deleted_at.is_(None))
        .order_by(Post.created_at, Post.id)))
    return ModerationQueue(pending, _flagged(Post.room_id == room.id))


def consultation_queue(actor: User, consultation: Consultation) -> ModerationQueue:
    """A consultation's reported posts: all of them for its organisers and hosts, those of
    their topics for topic co-moderators."""
    if not permissions.is_consultation_moderator(actor, consultation):
        raise PermissionDenied()
    where = [Post.consultation_id == consultation.id]
    if not (permissions.is_organiser_of(actor, consultation) or permissions.is_host_of(actor, consultation)):
        where.append(Post.topic_id.in_(select(Moderator.topic_id).where(Moderator.user_id == actor.id)))
    return ModerationQueue([], _flagged(*where))


def _flagged(*where) -> list[FlaggedPost]:
    flags = db.session.scalars(
        select(Flag).join(Post, Post.id == Flag.post_id)
        .options(joinedload(Flag.user), joinedload(Flag.post).joinedload(Post.author))
        .where(Flag.resolved_at.is_(None), Post.deleted_at.is_(None), *where)
        .order_by(Flag.created_at, Flag.id)).all()
    by_post: dict[int, FlaggedPost] = {}
    for flag in flags:
        by_post.setdefault(flag.post_id, FlaggedPost(flag.post)).flags.append(flag)
    return list(by_post.values())


def open_flag_counts(post_ids: list[int]) -> dict[int, int]:
    """Open reports per post, for showing a count next to posts a moderator reads."""
    if not post_ids:
        return {}
    return dict(db.session.execute(
        select(Flag.post_id, func.count(Flag.id))
        .where(Flag.post_id.in_(post_ids), Flag.resolved_at.is_(None)).group_by(Flag.post_id)).all())


def active_mutes(actor: User, room: Room) -> list[Mute]:
    """Who is muted in the room now, and until when (for the unmute buttons)."""
    _require_room(actor, room)
    return list(db.session.scalars(
        select(Mute).options(joinedload(Mute.user))
        .where(Mute.room_id == room.id, Mute.until > utcnow()).order_by(Mute.until)))
